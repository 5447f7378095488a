package crashpoint

import (
	"fmt"

	"promotesim/scenarios/cluster"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/view"
)

// Switchover is the switchover story (promotesim demo switchover, the
// walkthrough of docs/model.md §9: a fast stop of n1 and the online
// promote of n2, then n1's rebuild, the switchover back after an immediate
// stop of n2): its two promotes are the windows. profile and hazard ("" for
// none) are added to its cluster line.
func Switchover(profile, hz string) (view.Program, error) {
	p, err := view.DemoProgram("switchover")
	if err != nil {
		return p, err
	}
	if _, _, err := cluster.ParseProfile(profile); err != nil {
		return p, err
	}
	line := p.Cmds[0].Text + " profile=" + profile
	if hz != "" {
		if _, err := hazard.Lookup(hz); err != nil {
			return p, err
		}
		line += " hazard=" + hz
	}
	p.Cmds = append([]view.ProgCmd{{Text: line, Stage: p.Cmds[0].Stage}}, p.Cmds[1:]...)
	p.Title += fmt.Sprintf(" (profile %s%s)", profile, hazardNote(hz))
	return p, nil
}

// World is the swarm world of seed (promotesim replay -seed): its cluster
// line, every command it ran and its whole-state checks (a branch is cut
// in the window, before them, and ends in its own).
func World(seed uint64, profile, hz string) (view.Program, error) {
	if hz != "" {
		if _, err := hazard.Lookup(hz); err != nil {
			return view.Program{}, err
		}
	}
	p, err := view.WorldProgram(seed, profile, "none", hz)
	if err != nil {
		return p, err
	}
	return p, nil
}

func hazardNote(hz string) string {
	if hz == "" {
		return ""
	}
	return ", hazard " + hz
}
