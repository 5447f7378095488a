package view

import (
	"fmt"
	"strings"
)

// Mermaid renders the run as Markdown with two Mermaid diagrams (GitHub
// renders them): a sequence diagram of the story level (one participant
// per process with story events, the stage titles as notes over all, a
// story event as a note on its process) and the BGW state diagram of each
// node with the transitions the run took, labelled with their steps.
func Mermaid(d *Doc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s (model %s)\n\n```mermaid\nsequenceDiagram\n", d.Title, d.Source, d.Model)
	used := map[int]bool{} // looked up only
	for _, e := range d.Events {
		if e.Level == 1 {
			used[e.Lane] = true
		}
	}
	var first, last string
	for i, ln := range d.Lanes {
		if used[i] {
			fmt.Fprintf(&b, "  participant %s as %s/%s\n", mermaidID(i), ln.Node, ln.Name)
			if first == "" {
				first = mermaidID(i)
			}
			last = mermaidID(i)
		}
	}
	stage := -1
	ci := 0
	for _, e := range d.Events {
		for ci < len(d.Cmds)-1 && d.Cmds[ci].To < e.Step {
			ci++
		}
		if s := d.Cmds[ci].Stage; s != stage && s < len(d.Stages) && first != "" {
			stage = s
			fmt.Fprintf(&b, "  Note over %s,%s: %s\n", first, last, mermaidText(d.Stages[s]))
		}
		if e.Level != 1 {
			continue
		}
		fmt.Fprintf(&b, "  Note right of %s: %d %s %s\n", mermaidID(e.Lane), e.Step, mermaidText(e.Verb), mermaidText(e.Fields))
	}
	if v := d.Violation; v != nil && first != "" {
		fmt.Fprintf(&b, "  Note over %s,%s: VIOLATION %s at step %d\n", first, last, v.Checker, v.Step)
	}
	b.WriteString("```\n")
	for _, n := range d.Nodes {
		b.WriteString(BGWDiagram(d, n))
	}
	return b.String()
}

// BGWDiagram is node's BGW state diagram: every legal transition
// (docs/model.md §6), the ones taken labelled with the steps they were
// taken at.
func BGWDiagram(d *Doc, node string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nBGW of %s:\n\n```mermaid\nstateDiagram-v2\n  [*] --> REDO_NOT_START\n", node)
	for _, e := range d.Edges {
		var steps []string
		for _, t := range d.BGW {
			if t.Node == node && t.From == e[0] && t.To == e[1] {
				steps = append(steps, fmt.Sprint(t.Step))
			}
		}
		label := "not taken"
		if len(steps) > 0 {
			label = "taken at step " + strings.Join(steps, ", ")
		}
		fmt.Fprintf(&b, "  %s --> %s: %s\n", e[0], e[1], label)
	}
	for _, t := range d.BGW {
		legal := false
		for _, e := range d.Edges {
			legal = legal || e == [2]string{t.From, t.To}
		}
		if t.Node == node && !legal {
			fmt.Fprintf(&b, "  %s --> %s: ILLEGAL, taken at step %d\n", t.From, t.To, t.Step)
		}
	}
	b.WriteString("```\n")
	return b.String()
}

func mermaidID(lane int) string { return fmt.Sprintf("p%d", lane) }

// mermaidText keeps a note on one line and out of Mermaid's syntax.
func mermaidText(s string) string {
	return strings.NewReplacer(";", ",", "#", "no.", "\n", " ", ":", " ", "\"", "'").Replace(s)
}
