package startup_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/startup"
)

// Script tests: testdata/*.txt narrate the startup process for a teacher.
// Run with -rewrite to regenerate expected output.
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var e scriptEnv
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return e.handle(t, d)
		})
	})
}

type scriptEnv struct {
	w    *world
	seen int // trace bytes already shown
}

var stateByName = func() map[string]startup.State {
	m := map[string]startup.State{}
	for s := startup.StateInit; s <= startup.StateExited; s++ {
		m[s.String()] = s
	}
	return m
}()

// story returns the trace lines written since the last call.
func (e *scriptEnv) story() string {
	tr := e.w.trace.String()
	out := tr[e.seen:]
	e.seen = len(tr)
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l != "" {
			b.WriteString(strings.TrimRight(l, " ") + "\n")
		}
	}
	return b.String()
}

func (e *scriptEnv) handle(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "world":
		o := worldOpts{scripted: true}
		if d.HasArg("queue") {
			d.ScanArgs(t, "queue", &o.queue)
		}
		if d.HasArg("profile") {
			var s string
			d.ScanArgs(t, "profile", &s)
			p, err := shmem.ParseProfile(s)
			require.NoError(t, err)
			o.profile = p
		}
		e.w = newWorld(t, o)
		e.seen = 0
		return fmt.Sprintf("primary n1: checkpoint at %v redo=%v; control file written\n", e.w.ckpt, e.w.redo)
	case "primary":
		var k int
		d.ScanArgs(t, "txns", &k)
		first := e.w.xid + 1
		e.w.writeSome(k)
		return fmt.Sprintf("primary n1: xids %d..%d written and flushed, end of WAL %v\n", first, e.w.xid, e.w.pwal.FlushedLSN())
	case "checkpoint":
		e.w.checkpoint()
		return fmt.Sprintf("primary n1: pages and clog written; checkpoint at %v redo=%v\n", e.w.ckpt, e.w.redo)
	case "start-replica":
		e.w.startReplica()
		return "replica n2: mounted read-only; startup and BGW started\n"
	case "run":
		var done func() bool
		if d.HasArg("until") {
			var s string
			d.ScanArgs(t, "until", &s)
			st, ok := stateByName[s]
			require.True(t, ok, "state %q", s)
			done = e.w.inState(st)
		}
		if d.HasArg("drained") {
			done = func() bool { return e.w.drained() && e.w.proc.State() == startup.StateStreaming && pending(e.w) == 0 }
		}
		steps := 2000
		if d.HasArg("steps") {
			d.ScanArgs(t, "steps", &steps)
		}
		r := e.w.run(steps, done)
		out := e.story()
		what := "done"
		switch {
		case r.Quiescent:
			what = "quiescent"
		case !r.Done:
			what = "budget"
		}
		return out + fmt.Sprintf("-- %s: startup %v, replayed %v\n", what, e.w.proc.State(), e.w.n.ReplayLSN)
	case "promote":
		e.w.promote(false)
		return "postmaster: old primary stopped; shared storage remounted read-write; SIGUSR2 to startup\n"
	case "bgw-ack":
		require.NoError(t, e.w.n.Index.SetWritable())
		e.w.n.BGW.EnterWaitingReset()
		return fmt.Sprintf("bgw: LogIndex writable; %v (replay point %v)\n", e.w.n.BGW.State(), e.w.n.BGW.ReplayPoint())
	case "show":
		return e.show(t)
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

func (e *scriptEnv) show(t *testing.T) string {
	n := e.w.n
	var b strings.Builder
	fmt.Fprintf(&b, "node: in-recovery=%v primary=%v accepting=%v replayed=%v\n", n.InRecovery, n.Primary, n.Accepting, n.ReplayLSN)
	fmt.Fprintf(&b, "bgw: %v replay-point=%v fake-oldest=%v promote=[%v,%v)\n", n.BGW.State(), n.BGW.ReplayPoint(), n.BGW.FakeOldest(), n.BGW.PromoteStart, n.BGW.PromoteEnd)
	if n.WAL != nil {
		fmt.Fprintf(&b, "wal: insert=%v flushed=%v\n", n.WAL.InsertLSN(), n.WAL.FlushedLSN())
	}
	if ctl, err := shmem.ReadControl(n.Mount); err == nil {
		fmt.Fprintf(&b, "shared control: %v\n", ctl)
	}
	cl, err := shmem.ReadClog(n.Mount)
	require.NoError(t, err)
	fmt.Fprintf(&b, "shared clog committed: %v\n", cl.Committed())
	fmt.Fprintf(&b, "slots: %v\n", n.Slots)
	if info, ok := n.Index.Promoted(); ok {
		fmt.Fprintf(&b, "logindex promoted: end=%v last=%v\n", info.End, info.LastLSN)
	}
	for _, x := range e.w.exits.Of(n) {
		fmt.Fprintf(&b, "exit: %v %s\n", x, x.Err)
	}
	return b.String()
}
