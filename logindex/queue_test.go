package logindex

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"promotesim/sim/simtest"
	"promotesim/storage"
)

func metaAt(i int) *Meta {
	return &Meta{Type: RecPage, Start: storage.LSN(0x100 + 0x40*i), End: storage.LSN(0x140 + 0x40*i), NPages: 1, Pages: [MaxPages]storage.PageID{pg(1, uint32(i))}}
}

func popAll(t *testing.T, q *Queue, r Ref) []string {
	var out []string
	var p Packet
	for range 1000 {
		ok, err := q.Pop(r, &p)
		require.NoError(t, err)
		if !ok {
			return out
		}
		out = append(out, fmt.Sprintf("%v@%v", p.Kind, p.LSN))
	}
	t.Fatal("queue does not drain")
	return nil
}

func TestQueueStrongOverflow(t *testing.T) {
	q, err := NewQueue(4)
	require.NoError(t, err)
	r, err := q.NewRef("startup", true)
	require.NoError(t, err)
	// Room for 3 meta packets (one slot stays reserved for the marker).
	for i := range 3 {
		require.True(t, q.Push(metaAt(i)), "push %d", i)
	}
	require.False(t, q.Push(metaAt(3)))
	require.True(t, q.InStorageMode())
	require.False(t, q.Push(metaAt(4)))
	require.Equal(t, 0, q.Free())
	require.Equal(t, []string{"meta@0/100", "meta@0/140", "meta@0/180", "storage-begin@0/1C0"}, popAll(t, q, r))
	// Leaving storage mode needs room for end marker + meta + reserve.
	require.True(t, q.Push(metaAt(5)))
	require.False(t, q.InStorageMode())
	require.Equal(t, []string{"storage-end@0/240", "meta@0/240"}, popAll(t, q, r))
	require.Equal(t, QueueStats{Pushed: 6, Dropped: 2}, q.Stats())
}

func TestQueueWeakEvicted(t *testing.T) {
	q, err := NewQueue(4)
	require.NoError(t, err)
	weak, err := q.NewRef("polar worker", false)
	require.NoError(t, err)
	strong, err := q.NewRef("startup", true)
	require.NoError(t, err)
	for i := range 3 {
		require.True(t, q.Push(metaAt(i)))
	}
	popAll(t, q, strong)
	// The weak reader blocks nothing: the writer evicts it.
	require.True(t, q.Push(metaAt(3)))
	require.False(t, q.Valid(weak))
	var p Packet
	_, err = q.Pop(weak, &p)
	require.ErrorIs(t, err, ErrRefInvalid)
	require.Equal(t, uint64(1), q.Stats().Evicted)
	require.Equal(t, []string{"meta@0/1C0"}, popAll(t, q, strong))
	// The evicted reader releases and takes a new reference.
	q.Release(weak)
	weak, err = q.NewRef("polar worker", false)
	require.NoError(t, err)
	require.True(t, q.Push(metaAt(4)))
	require.Equal(t, []string{"meta@0/200"}, popAll(t, q, weak))
}

func TestQueueResetAndRefs(t *testing.T) {
	q, err := NewQueue(3)
	require.NoError(t, err)
	var refs []Ref
	for i := range MaxRefs {
		r, err := q.NewRef(fmt.Sprint(i), i%2 == 0)
		require.NoError(t, err)
		refs = append(refs, r)
	}
	_, err = q.NewRef("one too many", true)
	require.ErrorIs(t, err, ErrTooManyRefs)
	q.Push(metaAt(0))
	q.Bypass(0x140)
	require.True(t, q.InStorageMode())
	q.Reset()
	require.False(t, q.InStorageMode())
	require.Equal(t, 3, q.Free())
	for _, r := range refs {
		require.False(t, q.Valid(r))
	}
	require.Empty(t, q.Refs(nil))
	_, err = NewQueue(2)
	require.Error(t, err)
}

// TestQueueModel: whatever the interleaving, every reader can account for
// every record, in order, either from a meta packet or from a storage range;
// strong references are never invalidated.
func TestQueueModel(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		q, err := NewQueue(rapid.IntRange(3, 8).Draw(t, "cap"))
		require.NoError(t, err)
		type reader struct {
			ref     Ref
			strong  bool
			next    storage.LSN // next record this reader must account for
			storage bool        // reading from storage (after a begin marker)
			resync  bool        // lost its reference: reads storage until a meta shows up
		}
		var rs []*reader
		i := 0
		lsnAt := func(i int) storage.LSN { return metaAt(i).Start }
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				q.Push(metaAt(i))
				i++
			},
			"bypass": func(t *rapid.T) {
				q.Bypass(lsnAt(i))
			},
			"ref": func(t *rapid.T) {
				if len(rs) >= 4 {
					t.Skip("enough readers")
				}
				strong := rapid.Bool().Draw(t, "strong")
				r, err := q.NewRef("r", strong)
				require.NoError(t, err)
				rs = append(rs, &reader{ref: r, strong: strong, next: lsnAt(i), storage: q.InStorageMode()})
			},
			"pop": func(t *rapid.T) {
				if len(rs) == 0 {
					t.Skip("no readers")
				}
				r := rs[rapid.IntRange(0, len(rs)-1).Draw(t, "reader")]
				var p Packet
				ok, err := q.Pop(r.ref, &p)
				if err != nil {
					require.ErrorIs(t, err, ErrRefInvalid)
					require.False(t, r.strong, "strong reference invalidated")
					q.Release(r.ref)
					r.ref, err = q.NewRef("r", false)
					require.NoError(t, err)
					r.resync = true
					return
				}
				if !ok {
					return
				}
				switch {
				case r.resync:
					// Records before the first packet are read from storage.
					if p.Kind == PacketMeta && p.LSN >= r.next {
						r.next, r.resync, r.storage = p.Meta.End, false, false
					} else if p.Kind == PacketStorageBegin && p.LSN >= r.next {
						r.resync, r.storage = false, true
					}
				case p.Kind == PacketMeta:
					require.False(t, r.storage, "meta while in storage mode")
					require.Equal(t, r.next, p.LSN, "meta skips records")
					r.next = p.Meta.End
				case p.Kind == PacketStorageBegin:
					require.False(t, r.storage)
					require.Equal(t, r.next, p.LSN, "storage range does not start at next record")
					r.storage = true
				case p.Kind == PacketStorageEnd:
					require.True(t, r.storage)
					require.GreaterOrEqual(t, p.LSN, r.next)
					r.next, r.storage = p.LSN, false
				}
			},
			"reset": func(t *rapid.T) {
				q.Reset()
				rs = nil
			},
			"": func(t *rapid.T) {
				require.GreaterOrEqual(t, q.Free(), 0)
				if !q.InStorageMode() {
					require.GreaterOrEqual(t, q.Free(), 1, "marker slot reserved")
				}
				for _, r := range rs {
					if r.strong {
						require.True(t, q.Valid(r.ref))
					}
				}
			},
		})
	})
}
