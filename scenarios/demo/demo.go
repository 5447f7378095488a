package demo

import (
	"io"
	"sort"

	"promotesim/sim"
)

// DemoOptions configures a demo run.
type DemoOptions struct {
	Seed   uint64
	Out    io.Writer
	Level  sim.Level
	Format sim.Format
}

// Demo is a narrated, deterministic run meant to be read by a person.
type Demo struct {
	Name    string
	Summary string
	Run     func(DemoOptions) error
}

var demos []Demo

func register(d Demo) { demos = append(demos, d) }

// Demos lists the demos sorted by name.
func Demos() []Demo {
	out := append([]Demo(nil), demos...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FindDemo returns the demo called name.
func FindDemo(name string) (Demo, bool) {
	for _, d := range demos {
		if d.Name == name {
			return d, true
		}
	}
	return Demo{}, false
}
