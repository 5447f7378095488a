package storage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestBufpoolScripts runs the scripts in testdata/bufpool. Commands:
//
//	pool frames=N                     new pool of N free frames
//	load page=R/B [lsn=X/Y]           read a page: victim, write it if dirty, assign
//	victim                            show the frame the clock sweep would take
//	pin page=R/B | unpin page=R/B
//	evict page=R/B                    drop a clean page without I/O (replica)
//	dirty page=R/B oldest=X/Y         first change since last write: append to flush list
//	clean page=R/B                    the page was written: leave the flush list
//	write-head [n=K]                  the bgwriter writes K buffers from the head
//	consistent fallback=X/Y           recompute and publish the consistent LSN
//	flushlist                         show the flush list, head to tail
//	buffers                           show every frame and the clock hand
//
// Run with -rewrite to regenerate the expected output.
func TestBufpoolScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/bufpool", func(t *testing.T, path string) {
		var p *Pool
		regs := 0 // the pool's consistent LSN regressions so far
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd != "pool" && p == nil {
				d.Fatalf(t, "%s before pool", d.Cmd)
			}
			out := runBufpoolCmd(t, d, &p, &regs)
			if err := p.Check(); err != nil {
				d.Fatalf(t, "invariant broken after %s: %v", d.Cmd, err)
			}
			return out
		})
	})
}

func runBufpoolCmd(t *testing.T, d *datadriven.TestData, pp **Pool, regs *int) string {
	var w strings.Builder
	switch d.Cmd {
	case "pool":
		var frames int
		d.ScanArgs(t, "frames", &frames)
		p, err := NewPool(frames)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		*pp, *regs = p, 0
		fmt.Fprintf(&w, "pool of %d frames, all free\n", frames)
	case "load":
		p := *pp
		tag := scanPage(t, d)
		var lsn LSN
		if d.HasArg("lsn") {
			lsn = scanLSN(t, d, "lsn")
		}
		if id, ok := p.Lookup(tag); ok {
			fmt.Fprintf(&w, "page %s already in buf %d\n", tag, id)
			break
		}
		id, err := p.Victim()
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		b := p.Get(id)
		switch {
		case !b.Valid:
		case b.Dirty:
			fmt.Fprintf(&w, "victim buf %d holds dirty page %s (oldest %s): write it first\n", id, b.Tag, b.OldestLSN)
			p.MarkClean(id)
			fmt.Fprintf(&w, "replace page %s in buf %d\n", b.Tag, id)
		default:
			fmt.Fprintf(&w, "replace page %s in buf %d\n", b.Tag, id)
		}
		p.Assign(id, tag, Page{LSN: lsn})
		fmt.Fprintf(&w, "load page %s into buf %d\n", tag, id)
	case "victim":
		p := *pp
		id, err := p.Victim()
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		b := p.Get(id)
		switch {
		case !b.Valid:
			fmt.Fprintf(&w, "victim buf %d (free)\n", id)
		case b.Dirty:
			fmt.Fprintf(&w, "victim buf %d page %s dirty oldest=%s: write it before reuse\n", id, b.Tag, b.OldestLSN)
		default:
			fmt.Fprintf(&w, "victim buf %d page %s clean\n", id, b.Tag)
		}
	case "pin", "unpin", "evict", "dirty", "clean":
		p := *pp
		tag := scanPage(t, d)
		id, ok := p.Lookup(tag)
		if !ok {
			return fmt.Sprintf("error: page %s not in the pool\n", tag)
		}
		b := p.Get(id)
		switch d.Cmd {
		case "pin":
			p.Pin(id)
			fmt.Fprintf(&w, "buf %d page %s pins=%d\n", id, tag, p.Pins(id))
		case "unpin":
			p.Unpin(id)
			fmt.Fprintf(&w, "buf %d page %s pins=%d\n", id, tag, p.Pins(id))
		case "evict":
			p.Evict(id)
			fmt.Fprintf(&w, "evict page %s from buf %d: frame free\n", tag, id)
		case "dirty":
			oldest := scanLSN(t, d, "oldest")
			wasDirty := b.Dirty
			if err := p.MarkDirty(id, oldest); err != nil {
				return "error: " + err.Error() + "\n"
			}
			if wasDirty {
				fmt.Fprintf(&w, "buf %d page %s already dirty: oldest stays %s\n", id, tag, b.OldestLSN)
			} else {
				fmt.Fprintf(&w, "buf %d page %s dirty oldest=%s: appended at the tail\n", id, tag, b.OldestLSN)
			}
		case "clean":
			if !b.Dirty {
				fmt.Fprintf(&w, "buf %d page %s already clean\n", id, tag)
				break
			}
			oldest := b.OldestLSN
			p.MarkClean(id)
			fmt.Fprintf(&w, "write buf %d page %s (oldest %s): clean\n", id, tag, oldest)
		}
	case "write-head":
		p := *pp
		n := 1
		d.MaybeScanArgs(t, "n", &n)
		for range n {
			id, ok := p.FlushHead()
			if !ok {
				w.WriteString("flush list empty\n")
				break
			}
			b := p.Get(id)
			fmt.Fprintf(&w, "write buf %d page %s (oldest %s)\n", id, b.Tag, b.OldestLSN)
			p.MarkClean(id)
		}
	case "consistent":
		p := *pp
		fallback := scanLSN(t, d, "fallback")
		prev := p.ConsistentLSN()
		raw, from := fallback, "flush list empty, fallback"
		if id, ok := p.FlushHead(); ok {
			b := p.Get(id)
			raw, from = b.OldestLSN, fmt.Sprintf("head buf %d page %s", id, b.Tag)
		}
		if cal := p.CalConsistentLSN(fallback); cal != raw {
			t.Fatalf("CalConsistentLSN %s, want %s", cal, raw)
		}
		got := p.UpdateConsistentLSN(fallback)
		fmt.Fprintf(&w, "raw %s (%s)\n", raw, from)
		if raw < prev {
			*regs++
			fmt.Fprintf(&w, "regression #%d: raw %s below published %s; published stays\n", *regs, raw, prev)
		}
		fmt.Fprintf(&w, "consistent %s -> %s\n", prev, got)
	case "flushlist":
		writeFlushList(&w, *pp)
	case "buffers":
		p := *pp
		for i := range p.Frames() {
			id := BufferID(i)
			b := p.Get(id)
			if !b.Valid {
				fmt.Fprintf(&w, "buf %d: free\n", id)
				continue
			}
			fmt.Fprintf(&w, "buf %d: page %s lsn=%s pins=%d usage=%d", id, b.Tag, b.Page.LSN, p.Pins(id), b.usage)
			if b.Dirty {
				fmt.Fprintf(&w, " dirty oldest=%s", b.OldestLSN)
			}
			w.WriteString("\n")
		}
		fmt.Fprintf(&w, "clock hand at buf %d\n", p.hand)
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	return w.String()
}

func writeFlushList(w *strings.Builder, p *Pool) {
	ids := p.FlushList(nil)
	if len(ids) == 0 {
		w.WriteString("flush list empty\n")
		return
	}
	for i, id := range ids {
		b := p.Get(id)
		pos := "     "
		switch {
		case i == 0 && i == len(ids)-1:
			pos = "head,tail"
		case i == 0:
			pos = "head"
		case i == len(ids)-1:
			pos = "tail"
		}
		fmt.Fprintf(w, "%-9s buf %d page %s oldest=%s\n", pos, id, b.Tag, b.OldestLSN)
	}
}

func scanPage(t *testing.T, d *datadriven.TestData) PageID {
	var s string
	d.ScanArgs(t, "page", &s)
	var rel, block uint32
	if _, err := fmt.Sscanf(s, "%d/%d", &rel, &block); err != nil {
		d.Fatalf(t, "page %q: want REL/BLOCK: %v", s, err)
	}
	return PageID{Rel: RelID(rel), Block: BlockNo(block)}
}

func scanLSN(t *testing.T, d *datadriven.TestData, key string) LSN {
	var s string
	d.ScanArgs(t, key, &s)
	var hi, lo uint32
	if _, err := fmt.Sscanf(s, "%X/%X", &hi, &lo); err != nil {
		d.Fatalf(t, "%s %q: want an LSN like 0/1A8: %v", key, s, err)
	}
	return LSN(uint64(hi)<<32 | uint64(lo))
}
