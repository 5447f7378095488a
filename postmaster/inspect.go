package postmaster

import "promotesim/shmem"

// TxnOpen reports whether a backend of n has run every statement of its
// transaction and not yet inserted its commit, abort or PREPARE record: a
// client's open transaction before it sends COMMIT or ABORT (what
// PolarDB's test 008 holds open with psql while other sessions commit).
// Scripts wait for it to hold that backend there.
func (o Operator) TxnOpen(n *shmem.Node) bool {
	for _, id := range n.Procs.Backends {
		if !o.S.Alive(id) {
			continue
		}
		if b, ok := o.S.Actor(id).(*backend); ok && b.state == bCommitInsert {
			return true
		}
	}
	return false
}
