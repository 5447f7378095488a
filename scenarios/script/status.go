package script

import "strings"

// status prints every node's status line.
func (r *Runner) status(a Args) (string, error) {
	if err := a.only("status"); err != nil {
		return "", err
	}
	var b strings.Builder
	r.C.Status(&b)
	return strings.TrimRight(b.String(), "\n"), nil
}

// slots prints a node's replication slots.
func (r *Runner) slots(a Args) (string, error) {
	if err := a.only("slots", "node"); err != nil {
		return "", err
	}
	h, err := a.host("node")
	if err != nil {
		return "", err
	}
	return r.C.Slots(h)
}

// statReplication prints a node's pg_stat_replication.
func (r *Runner) statReplication(a Args) (string, error) {
	if err := a.only("stat-replication", "node"); err != nil {
		return "", err
	}
	h, err := a.host("node")
	if err != nil {
		return "", err
	}
	return r.C.StatReplication(h)
}
