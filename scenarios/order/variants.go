package order

import (
	"fmt"
	"slices"
	"strings"

	"promotesim/scenarios/hazard"
	"promotesim/shmem"
)

// Variant is one generated order of a profile's promote sequence.
type Variant struct {
	Profile shmem.Profile
	// ID is short and stable: omit:<step>, swap:<a>:<b>,
	// move:<step>:<before|after>:<wait point>, pair:<id>+<id>.
	ID string
	// Op says in words what changed.
	Op string
	// Steps are the steps the variant moves or leaves out (for the
	// per-step table).
	Steps []string
	Seq   shmem.Sequence
	// Without lists the omit-only steps left out.
	Without []string
	// CannotRun says why the variant cannot run ("" if it can).
	CannotRun string
	// Also lists the IDs of other operations that gave the same order.
	Also []string
	// A move's step, direction ("after" or "before") and the steps it
	// crosses, nearest first (the wait point last).
	Moved, Dir string
	Crossed    []string
}

// key identifies a variant's order.
func (v Variant) key() string {
	return v.Profile.String() + "~" + v.Seq.String() + "~" + strings.Join(v.Without, "+") + "~" + v.CannotRun
}

// Name is the hazard name that runs the variant.
func (v Variant) Name() string { return hazard.VariantName(v.Profile, v.Seq, v.Without) }

// slot is one step of a flattened sequence with its group.
type slot struct {
	name  string
	group int
}

func flatten(seq shmem.Sequence) []slot {
	var out []slot
	for g, names := range seq {
		for _, n := range names {
			out = append(out, slot{n, g})
		}
	}
	return out
}

// unflatten groups consecutive slots of the same group.
func unflatten(flat []slot) shmem.Sequence {
	var seq shmem.Sequence
	for i, s := range flat {
		if i > 0 && flat[i-1].group == s.group {
			seq[len(seq)-1] = append(seq[len(seq)-1], s.name)
			continue
		}
		seq = append(seq, []string{s.name})
	}
	return seq
}

func index(flat []slot, name string) int {
	return slices.IndexFunc(flat, func(s slot) bool { return s.name == name })
}

// moveTo moves step name to position pos of the list without it, as a
// group of its own: a group it lands inside is split there (a moved step
// runs in its own scheduler step).
func moveTo(flat []slot, name string, pos int) []slot {
	i := index(flat, name)
	s := flat[i]
	rest := slices.Delete(slices.Clone(flat), i, i+1)
	s.group = 1000 + pos
	return slices.Insert(rest, pos, s)
}

// WaitPoints are the waits a step may be moved across: startup's wait
// for the BGW's WAITING_RESET and the end of recovery, and the
// postmaster's waits before SIGUSR2 reaches startup.
var startupWaits = []string{shmem.StepWaitReset, shmem.StepRecoveryDone}

// postmasterWaits are the postmaster's wait points; no startup step can
// run before them.
var postmasterWaits = []struct{ id, text string }{{"backends-exit", "backends exit (P7)"}, {"remount", "the remount (P8)"}}

// Generate lists the variants of a profile: every step left out, every
// adjacent pair swapped, every startup step moved across each wait point.
// Duplicates (two operations giving the same order) are merged; orders
// equal to PolarDB's are dropped.
func Generate(p shmem.Profile) []Variant {
	def, omits := Default(p)
	flat := flatten(def)
	var out []Variant
	add := func(v Variant) { out = appendUnique(out, v, def) }
	for _, s := range flat {
		rest := slices.DeleteFunc(slices.Clone(flat), func(x slot) bool { return x.name == s.name })
		add(Variant{ID: "omit:" + s.name, Op: "leave out " + s.name, Steps: []string{s.name}, Seq: unflatten(rest)})
	}
	for _, o := range omits {
		add(Variant{ID: "omit:" + o, Op: "leave out " + o, Steps: []string{o}, Seq: def, Without: []string{o}})
	}
	for i := 0; i+1 < len(flat); i++ {
		a, b := flat[i], flat[i+1]
		var sw []slot
		if a.group == b.group {
			sw = slices.Clone(flat)
			sw[i].name, sw[i+1].name = b.name, a.name
		} else {
			sw = moveTo(flat, b.name, i)
		}
		add(Variant{ID: "swap:" + a.name + ":" + b.name, Op: "swap " + a.name + " and " + b.name,
			Steps: []string{a.name, b.name}, Seq: unflatten(sw)})
	}
	for _, w := range startupWaits {
		for _, s := range flat {
			if s.name == w {
				continue
			}
			add(moveAcross(flat, s.name, w))
		}
	}
	for _, w := range postmasterWaits {
		if w.id == "backends-exit" && !slices.Contains(omits, hazard.StepWaitBackends) {
			continue // an order without the backend wait has no such point
		}
		for _, s := range flat {
			add(Variant{ID: "move:" + s.name + ":before:" + w.id,
				Op: "move " + s.name + " before " + w.text, Steps: []string{s.name}, Seq: def,
				CannotRun: "startup learns of the promote only from P10's SIGUSR2, which the postmaster sends after " + w.text +
					" (postmaster.c polar_postmaster_online_promote); no startup step can run before it"})
		}
	}
	for i := range out {
		out[i].Profile = p
		if out[i].CannotRun == "" {
			out[i].CannotRun = cannotRun(out[i].Seq)
		}
	}
	return out
}

// appendUnique adds v unless its order is PolarDB's or an earlier
// variant's (then v's ID joins that one's Also).
func appendUnique(out []Variant, v Variant, def shmem.Sequence) []Variant {
	key := v.Seq.String() + "~" + strings.Join(v.Without, "+") + "~" + v.CannotRun
	if v.CannotRun == "" && key == def.String()+"~~" {
		return out
	}
	for i := range out {
		if out[i].Seq.String()+"~"+strings.Join(out[i].Without, "+")+"~"+out[i].CannotRun == key {
			if v.CannotRun == "" {
				out[i].Also = append(out[i].Also, v.ID)
				return out
			}
		}
	}
	return append(out, v)
}

// cannotRun applies the dependency rule: a step that needs a value no
// earlier step made cannot run.
func cannotRun(seq shmem.Sequence) string {
	have := map[string]string{}
	if !seq.Has(shmem.StepFinalReplay) {
		have[valEnd] = "the trigger (the queue's end)"
	}
	for _, g := range seq {
		for _, n := range g {
			st, _ := stepByName(n)
			for _, need := range st.Needs {
				if _, ok := have[need]; !ok {
					maker := "no step makes"
					for _, m := range Steps() {
						if slices.Contains(m.Makes, need) && seq.Has(m.Name) {
							maker = m.Name + " (" + m.ID + ") makes only later"
						}
					}
					return fmt.Sprintf("%s (%s) needs %s, which %s", n, st.ID, need, maker)
				}
			}
			for _, m := range st.Makes {
				have[m] = n
			}
		}
	}
	return ""
}

// Pairs combines, two at a time, the omissions of a profile that held on
// their own: an omission can be harmless only because another step
// covers for it (the end-of-WAL check matters only if the old primary
// still writes), which no single change shows. Combinations with an
// omission that breaks alone add nothing and are not generated.
func Pairs(p shmem.Profile, results []Result) []Variant {
	var held []Variant
	for _, r := range results {
		if r.Class == Holds && r.Profile == p.String() && strings.HasPrefix(r.ID, "omit:") {
			held = append(held, r.Variant)
		}
	}
	var out []Variant
	for i := range held {
		for j := i + 1; j < len(held); j++ {
			a, b := held[i], held[j]
			flat := flatten(a.Seq)
			flat = slices.DeleteFunc(flat, func(x slot) bool { return slices.Contains(b.Steps, x.name) && !slices.Contains(b.Without, x.name) })
			without := append(slices.Clone(a.Without), b.Without...)
			slices.SortFunc(without, func(x, y string) int { return slices.Index(OmitSteps(), x) - slices.Index(OmitSteps(), y) })
			v := Variant{Profile: p, ID: "pair:" + a.ID + "+" + b.ID, Op: a.Op + " and " + b.Op,
				Steps: append(slices.Clone(a.Steps), b.Steps...), Seq: unflatten(flat), Without: without}
			v.CannotRun = cannotRun(v.Seq)
			out = append(out, v)
		}
	}
	return out
}

// OmitSteps re-exports the omit-only steps' order for sorting.
func OmitSteps() []string { return hazard.OmitSteps() }

// moveAcross moves step name just past step w (after it if name comes
// first, else before it).
func moveAcross(flat []slot, name, w string) Variant {
	wi, si := index(flat, w), index(flat, name)
	var crossed []string
	where := "after"
	if si < wi {
		for _, x := range flat[si+1 : wi+1] {
			crossed = append(crossed, x.name)
		}
	} else {
		where = "before"
		for k := si - 1; k >= wi; k-- {
			crossed = append(crossed, flat[k].name)
		}
	}
	// wi is w's index once name is removed (after) or its own (before).
	moved := moveTo(flat, name, wi)
	return Variant{ID: "move:" + name + ":" + where + ":" + w, Op: "move " + name + " " + where + " " + w,
		Steps: []string{name}, Seq: unflatten(moved), Moved: name, Dir: where, Crossed: crossed}
}

// Refine narrows each breaking move that crosses several steps: the same
// step moved just past each nearer one, so the report can name the step
// whose order it must keep (the nearest crossing that breaks).
func Refine(p shmem.Profile, results []Result) []Variant {
	def, _ := Default(p)
	flat := flatten(def)
	have := map[string]bool{}
	for _, r := range results {
		have[r.Variant.key()] = true
	}
	var out []Variant
	for _, r := range results {
		v := r.Variant
		if r.Class != Breaks || r.Attributed != "" || r.Profile != p.String() || v.Moved == "" {
			continue
		}
		for _, c := range v.Crossed[:len(v.Crossed)-1] {
			m := moveAcross(flat, v.Moved, c)
			m.Profile = p
			m.CannotRun = cannotRun(m.Seq)
			if !have[m.key()] && m.Seq.String() != def.String() {
				have[m.key()] = true
				out = append(out, m)
			}
		}
	}
	return out
}
