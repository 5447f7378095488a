package postmaster

import (
	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Net is what the nodes know of each other: where to find the primary to
// stream from. It stands for the network and the replicas' primary_conninfo.
type Net struct {
	nodes []*shmem.Node // by host id; nil where no node
}

// Add registers a node.
func (t *Net) Add(n *shmem.Node) {
	for len(t.nodes) <= int(n.Cfg.Host) {
		t.nodes = append(t.nodes, nil)
	}
	t.nodes[n.Cfg.Host] = n
}

// Node returns the node of host h.
func (t *Net) Node(h storage.HostID) *shmem.Node {
	if int(h) >= len(t.nodes) {
		return nil
	}
	return t.nodes[h]
}

// Nodes returns every node in host order.
func (t *Net) Nodes() []*shmem.Node {
	var out []*shmem.Node
	for _, n := range t.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// OwnStorage reports whether n runs on a disk of its own (a standby, or a
// standby promoted to a primary of its own history) rather than the shared
// device.
func OwnStorage(n *shmem.Node) bool { return n.Dev != nil && n.Dev.Config().Local }

// primary returns the shared-storage node serving read-write, if any (a
// promoted standby is a primary of another history on its own disk: no
// replica or standby of this cluster follows it): the one holding the
// device's writer role when two think they are primary (an old primary a
// promote displaced but nobody stopped, under fencing): the operator points
// primary_conninfo at the node it promoted.
func (t *Net) primary() *shmem.Node {
	var first *shmem.Node
	for _, n := range t.nodes {
		if n != nil && n.Primary && n.ReadWrite && n.Procs.Postmaster != shmem.NoProc && !OwnStorage(n) {
			if n.Mount != nil && n.Mount.Writer() {
				return n
			}
			if first == nil {
				first = n
			}
		}
	}
	return first
}

// walSender streams WAL meta of durable WAL to one replica, one record per
// step, with the consistent LSN piggybacked; the replica's feedback moves
// its slot: the apply LSN (the flush gate) and the restart LSN (the LogIndex
// truncation bound).
//
// Mirrors src/backend/replication/walsender.c with PolarDB's WAL meta
// streaming (polar_xlog_send_meta...).
type walSender struct {
	n     *shmem.Node
	conn  Connect
	sent  storage.LSN
	timer bool
	// until: the record at sent ends here, past the flushed WAL (its
	// first part synced, its continuation not yet): nothing to send until
	// the flush passes it. A walsender sends WAL only up to the flush
	// pointer (walsender.c XLogSendPhysical, GetFlushRecPtr), and a record
	// only once all of it is there.
	until storage.LSN
}

func newWALSender(n *shmem.Node, m Connect) *walSender {
	return &walSender{n: n, conn: m, sent: m.Start}
}

func (a *walSender) Name() string { return a.n.Proc("walsender-" + a.conn.Slot) }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (a *walSender) WakeOn(w *sim.Wakes) { a.n.WakeOn(w) }

func (a *walSender) Ready() bool {
	return !a.timer || primaryActive(a.n) && a.sent < a.n.WAL.FlushedLSN() && a.until <= a.n.WAL.FlushedLSN()
}

// gone ends the walsender when its replica's walreceiver is gone (the
// connection dropped); wal_sender_timeout's keepalive finds it.
func (a *walSender) gone(c *sim.Ctx) bool {
	if c.Alive(a.conn.Receiver) {
		return false
	}
	a.release(c)
	c.Log("replica-gone", sim.Str("slot", a.conn.Slot))
	exitProc(c, a.n, a.Name(), shmem.ExitNormal, nil)
	return true
}

func (a *walSender) Step(c *sim.Ctx) {
	n := a.n
	if !a.timer {
		a.timer = true
		c.Wake(shmem.Wake{Why: "keepalive"}, reconnectTicks)
		a.keepalive(c)
		if !primaryActive(n) || a.sent >= n.WAL.FlushedLSN() {
			return
		}
	}
	if !c.Alive(a.conn.Receiver) {
		a.release(c)
		exitProc(c, n, a.Name(), shmem.ExitNormal, nil)
		return
	}
	rec, err := n.ReadRecord(a.sent)
	if err != nil {
		// The replica asked for a position that is not a record start (or
		// WAL it needs is gone): the connection ends; it will retry.
		c.Log("stream-error", sim.Str("err", err.Error()))
		a.release(c)
		exitProc(c, n, a.Name(), shmem.ExitNormal, nil)
		return
	}
	if rec.End > n.WAL.FlushedLSN() {
		a.until = rec.End
		c.Detail("send-wait", sim.LSNField("lsn", uint64(rec.Start)), sim.LSNField("end", uint64(rec.End)),
			sim.LSNField("flushed", uint64(n.WAL.FlushedLSN())))
		return
	}
	if a.conn.Full {
		// A standby has its own storage: it gets the record itself.
		prefix, err := contrecordPrefix(n, a.sent, rec)
		if err != nil {
			c.Log("stream-error", sim.Str("err", err.Error()))
			a.release(c)
			exitProc(c, n, a.Name(), shmem.ExitNormal, nil)
			return
		}
		c.Send(a.conn.Receiver, walData{Rec: cloneRecord(rec), Sender: c.Self(), Prefix: prefix})
	} else {
		c.Send(a.conn.Receiver, shmem.WALMeta{Meta: rec.Meta(), ConsistentLSN: n.Pool.ConsistentLSN(), Sender: c.Self()})
	}
	c.Detail("send", sim.Str("type", rec.Type.String()), sim.LSNField("lsn", uint64(rec.Start)))
	a.sent = rec.End
}

// keepalive tells the walreceiver this walsender serves it, with the
// consistent LSN, so an idle but connected replica keeps its connection and
// keeps feeding back.
func (a *walSender) keepalive(c *sim.Ctx) {
	if c.Alive(a.conn.Receiver) {
		c.Send(a.conn.Receiver, shmem.Keepalive{Sender: c.Self(), ConsistentLSN: a.n.Pool.ConsistentLSN()})
	}
}

// release marks the slot inactive as this walsender goes, unless a newer
// walsender of the same slot (a reconnect) already holds it.
func (a *walSender) release(c *sim.Ctx) {
	for _, id := range a.n.Procs.WALSenders {
		if id == c.Self() || !c.Alive(id) {
			continue
		}
		if ws, ok := c.Actor(id).(*walSender); ok && ws.conn.Slot == a.conn.Slot {
			return
		}
	}
	for i := range a.n.Slots {
		if a.n.Slots[i].Name == a.conn.Slot {
			a.n.Slots[i].Active = false
		}
	}
}

func (a *walSender) Receive(c *sim.Ctx, m sim.Msg) {
	switch m := m.(type) {
	case shmem.Feedback:
		// ProcessStandbyReplyMessage: the apply position goes to the slot's
		// apply LSN (polar_record_replica_lsn, the flush gate), the
		// replica's bg_replayed_lsn, when it sent one, to its restart LSN
		// (PhysicalConfirmReceivedLocation, which bounds LogIndex
		// truncation); without one the restart LSN follows the reply's
		// position, as PostgreSQL's follows flushPtr. Both only move
		// forward here: PolarDB sets restart_lsn to each reply's value, but
		// LogIndex already truncated cannot come back, and none is needed
		// below the truncation point (storage has every change below the
		// redo, and a replica read clamps its replay to the point).
		restart := m.ReadMin
		if !restart.Valid() {
			restart = m.Applied
		}
		for i := range a.n.Slots {
			if s := &a.n.Slots[i]; s.Name == m.Slot {
				s.Apply = max(s.Apply, m.Applied)
				s.Restart = max(s.Restart, restart)
			}
		}
		c.Detail("feedback", sim.Str("slot", m.Slot), sim.LSNField("applied", uint64(m.Applied)),
			sim.LSNField("read_min", uint64(m.ReadMin)))
	case shmem.Wake:
		if !a.gone(c) {
			a.keepalive(c)
			c.Wake(shmem.Wake{Why: "keepalive"}, reconnectTicks)
		}
	case shmem.Signal:
		if m == shmem.SIGTERM || m == shmem.SIGQUIT {
			a.release(c)
			exitProc(c, a.n, a.Name(), shmem.ExitKilled, nil)
		}
	}
}

// reconnectTicks is how long a walreceiver waits without data before it
// (re)connects to whichever node is primary now.
const reconnectTicks = 64

// stream is a walreceiver's connection to the primary, the part a
// replica's walreceiver and a standby's share (walreceiver.c
// WalReceiverMain: walrcv_connect to primary_conninfo, then the loop whose
// wal_receiver_timeout notices a dead sender and reconnects).
type stream struct {
	net       *Net
	connected bool           // asked to connect; cleared when the connection is seen gone
	sender    storage.HostID // the primary last connected to
	peer      sim.ActorID    // the walsender streaming to us, once known
	expected  storage.LSN    // start of the next meta or record we can accept
	timer     bool           // the reconnect timer runs
}

// ready is the part of Ready the connection decides: nothing to do before
// recovery or after service ends unconnected (ok false); a connection to
// make or a timer to arm (ok true, decided). Otherwise the receiver
// decides (decided false).
func (s *stream) ready(n *shmem.Node) (ok, decided bool) {
	if !n.InRecovery || !n.Accepting && !s.connected {
		return false, true
	}
	if !s.connected || !s.timer {
		return true, true
	}
	return false, false
}

// connecting arms the reconnect timer on the first step and reports
// whether this step must connect instead of doing the receiver's work.
func (s *stream) connecting(c *sim.Ctx) bool {
	if !s.timer {
		c.Wake(shmem.Wake{Why: "reconnect"}, reconnectTicks)
		s.timer = true
	}
	return !s.connected
}

// dial connects node n to whichever node is primary now, to stream from
// from or where the last connection stopped, whichever is later; p is nil
// when there is no primary but n (traced no-primary; the reconnect timer
// tries again).
func (s *stream) dial(c *sim.Ctx, n *shmem.Node, from storage.LSN) (p *shmem.Node) {
	s.connected = true // until the reconnect timer says otherwise
	s.peer = shmem.NoProc
	p = s.net.primary()
	if p == nil || p == n {
		c.Detail("no-primary")
		return nil
	}
	if s.expected < from {
		s.expected = from
	}
	s.sender = p.Cfg.Host
	return p
}

// checkAlive is the reconnect timer's look at the connection: it is gone
// when its walsender is (the primary stopped or crashed), or was never
// made (no primary answered); the next step reconnects to whichever node
// is primary now.
func (s *stream) checkAlive(c *sim.Ctx) {
	if s.peer == shmem.NoProc || !c.Alive(s.peer) {
		s.connected = false
	}
}

// walReceiver connects to the primary once startup reached hot standby,
// queues the WAL meta it receives (the queue falls back to "read from
// storage" when full), learns the primary's consistent LSN, and sends
// feedback: its replay position (the primary's flush gate) and the oldest
// LSN it may still need LogIndex from (the primary's truncation bound).
//
// Mirrors src/backend/replication/walreceiver.c (XLogWalRcvSendReply) and
// PolarDB's polar_xlog_queue push of WAL meta.
type walReceiver struct {
	n *shmem.Node
	stream
	fed    storage.LSN // last apply position fed back
	fedMin storage.LSN // last read-min position fed back
}

func newWALReceiver(n *shmem.Node, net *Net) *walReceiver {
	return &walReceiver{n: n, stream: stream{net: net, peer: shmem.NoProc}}
}

func (a *walReceiver) Name() string { return a.n.Proc("walreceiver") }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (a *walReceiver) WakeOn(w *sim.Wakes) { a.n.WakeOn(w) }

func (a *walReceiver) Ready() bool {
	if ok, decided := a.ready(a.n); decided {
		return ok
	}
	// Feedback needs a peer to go to: until the walsender's first keepalive
	// or WAL names it, there is nothing to send.
	return a.peer != shmem.NoProc && a.due()
}

// due reports whether either position moved past what was fed back.
func (a *walReceiver) due() bool { return a.n.ReplayLSN > a.fed || a.readMin() > a.fedMin }

// readMin is the reply's bg_replayed_lsn: polar_get_read_min_lsn started
// from the primary's consistent LSN as this replica learned it, lowered to
// every LSN an in-flight read published to replay from
// (POLAR_SET_BACKEND_READ_MIN_LSN, here the BGW's backend starts), to the
// replay position and to the BGW's replay point (its pooled copies lack
// the changes after it, and its LogIndex iterator must find them). PolarDB
// sends none before the replica learned a consistent LSN (the primary then
// takes the flushed position); the model leaves it out of the minimum.
func (a *walReceiver) readMin() storage.LSN {
	n := a.n
	lo := n.ReplayLSN
	if l := n.PrimaryConsistent; l.Valid() && l < lo {
		lo = l
	}
	if l := n.BGW.BackendMinReplayLSN(); l.Valid() && l < lo {
		lo = l
	}
	if l := n.BGW.ReplayPoint(); n.BGW.State() == shmem.BGReplicaBufReplaying && l.Valid() && l < lo {
		lo = l
	}
	return lo
}

func (a *walReceiver) Step(c *sim.Ctx) {
	n := a.n
	if a.connecting(c) {
		a.connect(c)
		return
	}
	// The fed-back positions move only when the feedback is sent: a reply
	// lost for want of a peer would leave the slot (the primary's flush
	// gate) behind for good.
	if a.peer != shmem.NoProc && !c.Alive(a.peer) {
		a.peer = shmem.NoProc // gone: wait for the reconnect timer
		return
	}
	if a.due() && a.peer != shmem.NoProc {
		a.fed = max(a.fed, n.ReplayLSN)
		a.fedMin = max(a.fedMin, a.readMin())
		c.Send(a.peer, shmem.Feedback{Host: n.Cfg.Host, Slot: n.Cfg.Slot(), Applied: n.ReplayLSN, ReadMin: a.readMin()})
	}
}

func (a *walReceiver) connect(c *sim.Ctx) {
	n := a.n
	// A new connection reports from scratch (a new walreceiver's
	// XLogWalRcvSendReply has sent nothing yet): the primary it reaches may
	// be another node, whose copy of our slot (reloaded from storage at
	// its promote or start) lags what we fed back before.
	a.fed, a.fedMin = storage.InvalidLSN, storage.InvalidLSN
	p := a.dial(c, n, n.ReplayLSN)
	if p == nil {
		return
	}
	c.Send(p.Procs.Postmaster, Connect{From: n.Cfg.Host, Slot: n.Cfg.Slot(), Receiver: c.Self(), Start: a.expected})
	c.Log("connect", sim.Str("primary", p.Cfg.Host.String()), sim.LSNField("start", uint64(a.expected)))
}

func (a *walReceiver) Receive(c *sim.Ctx, m sim.Msg) {
	n := a.n
	switch m := m.(type) {
	case shmem.WALMeta:
		if m.Meta.Start != a.expected && !(m.Meta.Type == logindex.RecOverwriteContrecord && m.Meta.Start > a.expected) {
			// (An OVERWRITE_CONTRECORD follows the aborted record it
			// names, which the stream carries no meta for: startup
			// reads the gap from storage and skips it.)
			c.Detail("skip-meta", sim.LSNField("lsn", uint64(m.Meta.Start)), sim.LSNField("expected", uint64(a.expected)))
			return
		}
		a.peer = m.Sender
		if !n.Queue.Push(&m.Meta) {
			c.Mark("postmaster/queue-overflow")
		}
		a.expected = m.Meta.End
		n.ReceivedLSN = m.Meta.End
		if m.ConsistentLSN > n.PrimaryConsistent {
			n.PrimaryConsistent = m.ConsistentLSN
		}
	case shmem.Keepalive:
		a.peer = m.Sender
		if m.ConsistentLSN > n.PrimaryConsistent {
			n.PrimaryConsistent = m.ConsistentLSN
		}
	case shmem.Wake:
		a.checkAlive(c)
		// The operator repointed primary_conninfo at a promoted node while
		// the old primary still runs (fencing keeps it off storage): a
		// replica that stayed with it would never hear of the new
		// primary's WAL, and the new primary would write pages past it.
		if p := a.net.primary(); a.connected && p != nil && p.Cfg.Host != a.sender {
			if a.peer != shmem.NoProc && c.Alive(a.peer) {
				c.Send(a.peer, shmem.SIGTERM) // the old connection closes
			}
			a.peer = shmem.NoProc
			a.connected = false
			c.Log("repoint", sim.Str("from", a.sender.String()), sim.Str("to", p.Cfg.Host.String()))
		}
		// wal_receiver_status_interval: the status reply goes out on every
		// interval even when nothing moved (XLogWalRcvSendReply), so a
		// reply the primary lost (a promoting node reloads its slots from
		// storage, dropping what an early reply said) is made good without
		// new WAL.
		if a.connected && a.peer != shmem.NoProc && c.Alive(a.peer) && a.fed.Valid() {
			c.Send(a.peer, shmem.Feedback{Host: n.Cfg.Host, Slot: n.Cfg.Slot(), Applied: a.fed, ReadMin: a.fedMin})
		}
		c.Wake(shmem.Wake{Why: "reconnect"}, reconnectTicks)
	case shmem.Signal:
		if m == shmem.SIGTERM || m == shmem.SIGQUIT {
			exitProc(c, n, a.Name(), shmem.ExitKilled, nil)
		}
	}
}
