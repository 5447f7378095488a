package script

import (
	"fmt"

	"promotesim/postmaster"
)

func (r *Runner) nodeOp(cmd string, a Args) (string, error) {
	h, err := a.node(cmd)
	if err != nil {
		return "", err
	}
	switch cmd {
	case "promote":
		if err = r.C.Promote(h); err == nil {
			r.promoteRequested(h)
		}
	case "trigger":
		if err = r.C.Trigger(h); err == nil {
			r.promoteRequested(h)
		}
	case "crash":
		err = r.C.Crash(h)
	case "rebuild":
		err = r.C.Rebuild(h)
	}
	return "", err
}

func (r *Runner) stop(a Args) (string, error) {
	h, err := a.node("stop", "mode")
	if err != nil {
		return "", err
	}
	immediate := false
	switch a["mode"] {
	case "", "fast":
	case "immediate":
		immediate = true
	default:
		return "", fmt.Errorf("mode=%q: want fast or immediate", a["mode"])
	}
	if err := r.C.Stop(h, immediate); err != nil {
		return "", err
	}
	n := r.C.Node(h)
	res := r.C.S.RunUntil(func() bool { return !postmaster.Alive(r.C.S, n) }, r.Budget)
	if res.Violation != nil {
		return "", res.Violation
	}
	if !res.Done {
		return fmt.Sprintf("%v still running after %d steps", h, r.Budget), nil
	}
	return fmt.Sprintf("%v stopped", h), nil
}

func (r *Runner) start(a Args) (string, error) {
	h, err := a.node("start", "role")
	if err != nil {
		return "", err
	}
	role := postmaster.RolePrimary
	switch a["role"] {
	case "primary":
	case "replica":
		role = postmaster.RoleReplica
	default:
		return "", fmt.Errorf("role=%q: want primary or replica", a["role"])
	}
	return "", r.C.Start(h, role)
}

func (r *Runner) dropSlot(a Args) (string, error) {
	h, err := a.node("drop-slot", "name")
	if err != nil {
		return "", err
	}
	name, ok := a["name"]
	if !ok {
		return "", fmt.Errorf("missing name=SLOT")
	}
	return "", r.C.DropSlot(h, name)
}
