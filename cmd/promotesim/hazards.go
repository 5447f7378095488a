package main

import (
	"fmt"
	"io"
	"strings"

	"promotesim/scenarios/hazard"
)

func runHazards(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hazards", "hazards [-v]", stderr)
	verbose := fs.Bool("v", false, "also say what PolarDB does right")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	hz := hazard.All()
	fmt.Fprintf(stdout, "%d hazards: deliberately wrong steps of online promote, each must trip a checker.\n", len(hz))
	fmt.Fprintln(stdout, "Hunt one with 'promotesim explore -hazard NAME', all of them with '-hazard all'.")
	for _, h := range hz {
		fmt.Fprintf(stdout, "\n%s\n", h.Name)
		if *verbose {
			wrap(stdout, "right:  ", h.Right)
		}
		wrap(stdout, "wrong:  ", h.Wrong)
		wrap(stdout, "result: ", h.Consequence)
	}
	return nil
}

// wrap prints text after a label, wrapped at 100 columns and indented.
func wrap(w io.Writer, label, text string) {
	const width = 100
	pad := "  " + strings.Repeat(" ", len(label))
	line := "  " + label
	fresh := true
	for _, word := range strings.Fields(text) {
		if !fresh && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line, fresh = pad, true
		}
		if fresh {
			line += word
			fresh = false
		} else {
			line += " " + word
		}
	}
	fmt.Fprintln(w, line)
}
