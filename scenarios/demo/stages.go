package demo

// DemoStage is one stage of a script demo: its title (the story-level
// caption) and the commands it runs through a Runner.
type DemoStage struct {
	Title string
	Cmds  []string
}

// DemoStages returns the stages of the script demo called name (false for
// a demo that is not a list of script stages, like foundation). The viewer
// replays them itself to capture every step.
func DemoStages(name string) ([]DemoStage, bool) {
	var st []stage
	switch name {
	case "switchover":
		st = switchoverStages
	case "logindex-off":
		st = logindexOffStages
	default:
		return nil, false
	}
	out := make([]DemoStage, len(st))
	for i, s := range st {
		out[i] = DemoStage{Title: s.title, Cmds: append([]string(nil), s.cmds...)}
	}
	return out, true
}
