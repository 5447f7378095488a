package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"promotesim/scenarios/explore"
)

// promotesim merge: the report one machine would have printed for a seed
// range, from the -json reports of `explore -shard i/n` runs of it (one per
// machine: a Kubernetes Indexed Job, a CI matrix; see deploy/). The shards
// of a range partition it (seed s runs in shard s mod n), so counts add up,
// marks and claim counts combine by union and sum, and the lowest failing
// seed overall is the lowest of the shards' lowest: every shard runs every
// one of its seeds below its own first failure.

// runJSON is the part of explore's -json report that says which range and
// options ran: every shard of one sweep must agree on it.
type runJSON struct {
	Seeds       uint64  `json:"seeds"`
	DurationSec float64 `json:"duration_s"`
	KeepGoing   bool    `json:"keep_going"`
	Determinism bool    `json:"determinism"`
	NoControl   bool    `json:"no_control"`
}

func runOptions(cfg explore.ExploreConfig) runJSON {
	return runJSON{Seeds: cfg.Seeds, DurationSec: cfg.Duration.Seconds(), KeepGoing: cfg.KeepGoing,
		Determinism: cfg.Determinism, NoControl: cfg.NoControl}
}

// shardReport is explore's -json report as merge reads and writes it:
// the fields both know (exploreReport) and what merge adds; a field merge
// does not know is kept in Extra and combined by mergeExtra.
type shardReport struct {
	exploreReport
	Merge *mergeJSON `json:"merge,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
	path  string
	index uint64 // shard i of i/n
	of    uint64 // n
}

// mergeJSON says what a merged report is made of and which of its fields
// are not what one machine would have printed.
type mergeJSON struct {
	Reports int      `json:"reports"`
	Shards  uint64   `json:"shards"`
	Missing []uint64 `json:"missing_shards,omitempty"`
	// Exact: every field but the timing ones is the one-machine report's.
	Exact   bool     `json:"exact"`
	Inexact []string `json:"inexact_fields,omitempty"`
	Why     string   `json:"why_inexact,omitempty"`
	// Timing: elapsed_s is the longest shard's wall time (shards run side
	// by side), steps_per_s the sweep's steps over it, workers the sum,
	// steps_per_s_per_core the steps over worker_s.
	ElapsedSum float64 `json:"elapsed_s_sum"`
	WorkerSec  float64 `json:"worker_s"`
	Timing     string  `json:"timing"`
	// Unmerged: fields merge does not know whose values differ between
	// shards, each shard's value in shard order.
	Unmerged map[string][]json.RawMessage `json:"unmerged,omitempty"`
}

// knownFields are the report fields shardReport decodes.
var knownFields = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range []reflect.Type{reflect.TypeFor[exploreReport](), reflect.TypeFor[shardReport]()} {
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				m[name] = true
			}
		}
	}
	return m
}()

// mergeFlags is merge's flag set (deploy_test.go checks the deploy
// examples' command lines against it).
func mergeFlags(stderr io.Writer) (fs *flag.FlagSet, jsonOut, allowMissing *bool) {
	fs = newFlags("merge", "merge [-json] [-allow-missing] REPORT...  (the -json reports of explore -shard i/n runs of one range)", stderr)
	jsonOut = fs.Bool("json", false, "print the merged report as JSON (explore -json's fields plus \"merge\")")
	allowMissing = fs.Bool("allow-missing", false, "merge even when some shards' reports are missing (a warning; the report is then marked inexact)")
	return fs, jsonOut, allowMissing
}

func runMerge(args []string, stdout, stderr io.Writer) error {
	fs, jsonOut, allowMissing := mergeFlags(stderr)
	if err := parse(fs, args, 1<<30); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErr("give the -json reports of explore -shard i/n runs to merge")
	}
	var reports []*shardReport
	for _, p := range fs.Args() {
		r, err := readReport(p)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	missing, err := checkShards(reports)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		if !*allowMissing {
			return usageErr("missing shards %s of %d (pass -allow-missing to merge what there is, marked inexact)", joinUints(missing), reports[0].of)
		}
		fmt.Fprintf(stderr, "promotesim merge: warning: shards %s of %d are missing; the merged report covers only part of the range\n", joinUints(missing), reports[0].of)
	}
	m := mergeReports(reports, missing)
	if len(m.Merge.Unmerged) > 0 {
		fmt.Fprintf(stderr, "promotesim merge: warning: fields %s differ between shards and are listed per shard under merge.unmerged\n", strings.Join(sortedKeys(m.Merge.Unmerged), ", "))
	}
	if *jsonOut {
		if err := writeMerged(stdout, m); err != nil {
			return err
		}
	} else {
		printMerged(stdout, m)
	}
	if m.Violations > 0 || len(m.Failures) > 0 {
		return errViolationReported
	}
	return nil
}

// readReport reads one shard's report; anything that is not one is bad
// input.
func readReport(path string) (*shardReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, usageErr("%s: not an explore -json report: %v", path, err)
	}
	if _, ok := raw["hazards"]; ok {
		return nil, usageErr("%s: an explore -hazard all table; merge takes the reports of one hazard's (or none's) explore -shard runs", path)
	}
	for _, k := range []string{"model_version", "base", "first_seed", "shard", "worlds", "run"} {
		if _, ok := raw[k]; !ok {
			return nil, usageErr("%s: not an explore -json report (no %q field)", path, k)
		}
	}
	r := &shardReport{path: path, Extra: map[string]json.RawMessage{}}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, usageErr("%s: not an explore -json report: %v", path, err)
	}
	if r.Merge != nil {
		return nil, usageErr("%s: already a merged report; merge the shards' own reports", path)
	}
	for k, v := range raw {
		if !knownFields[k] {
			r.Extra[k] = v
		}
	}
	a, b, ok := strings.Cut(r.Shard, "/")
	i, err1 := strconv.ParseUint(a, 10, 64)
	n, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || n == 0 || i >= n {
		return nil, usageErr("%s: shard %q: want i/n", path, r.Shard)
	}
	r.index, r.of = i, n
	return r, nil
}

// checkShards checks that the reports are shards of one sweep (same
// model, base, range and options; each shard once) and returns the
// missing shards.
func checkShards(rs []*shardReport) ([]uint64, error) {
	r0 := rs[0]
	seen := map[uint64]string{}
	for _, r := range rs {
		switch {
		case r.Model != r0.Model:
			return nil, usageErr("%s and %s: different model versions (%s, %s)", r0.path, r.path, r0.Model, r.Model)
		case r.Base != r0.Base:
			return nil, usageErr("%s and %s: different worlds (%s; %s)", r0.path, r.path, r0.Base, r.Base)
		case r.FirstSeed != r0.FirstSeed || r.Run != r0.Run:
			return nil, usageErr("%s and %s: different ranges or options (first seed %d %+v; first seed %d %+v)", r0.path, r.path, r0.FirstSeed, r0.Run, r.FirstSeed, r.Run)
		case r.of != r0.of:
			return nil, usageErr("%s and %s: shards of different splits (%s, %s)", r0.path, r.path, r0.Shard, r.Shard)
		}
		if p, dup := seen[r.index]; dup {
			return nil, usageErr("%s and %s: both are shard %s (overlapping shards)", p, r.path, r.Shard)
		}
		seen[r.index] = r.path
	}
	var missing []uint64
	for i := range r0.of {
		if _, ok := seen[i]; !ok {
			missing = append(missing, i)
		}
	}
	return missing, nil
}

func joinUints(xs []uint64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(s, ",")
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m { // sorted below
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// mergeReports combines the shards (checked by checkShards), lowest shard
// first.
func mergeReports(rs []*shardReport, missing []uint64) *shardReport {
	sort.Slice(rs, func(i, j int) bool { return rs[i].index < rs[j].index })
	r0 := rs[0]
	m := &shardReport{exploreReport: exploreReport{Model: r0.Model, Base: r0.Base, FirstSeed: r0.FirstSeed, MarksKnown: r0.MarksKnown, MarksUnreachable: r0.MarksUnreachable, Run: r0.Run,
		Exhausted: true, ByChecker: map[string]uint64{}, Exercised: map[string]uint64{}, Shard: "0/1"},
		Merge: &mergeJSON{Reports: len(rs), Shards: r0.of, Missing: missing}}
	if len(missing) > 0 {
		var have []uint64
		for _, r := range rs {
			have = append(have, r.index)
		}
		m.Shard = joinUints(have) + "/" + strconv.FormatUint(r0.of, 10)
	}
	marks := map[string]bool{} // listed sorted
	never := map[string]int{}  // how many shards never exercised it
	for _, r := range rs {
		m.LastSeed = max(m.LastSeed, r.LastSeed)
		m.Worlds += r.Worlds
		m.Steps += r.Steps
		m.Violations += r.Violations
		m.Background += r.Background
		m.Exhausted = m.Exhausted && r.Exhausted
		m.PeakRSS = max(m.PeakRSS, r.PeakRSS)
		m.Workers += r.Workers
		m.ElapsedSec = max(m.ElapsedSec, r.ElapsedSec)
		m.Merge.ElapsedSum += r.ElapsedSec
		m.Merge.WorkerSec += r.ElapsedSec * float64(r.Workers)
		for c, n := range r.ByChecker {
			m.ByChecker[c] += n
		}
		for c, n := range r.Exercised {
			m.Exercised[c] += n
		}
		for _, k := range r.MarksReached {
			marks[k] = true
		}
		for _, c := range r.NeverExercised {
			never[c]++
		}
		m.Failures = append(m.Failures, r.Failures...)
	}
	m.MarksReached = sortedKeys(marks)
	// Never exercised overall: by no shard; in the catalogue order the
	// shards list them in.
	m.NeverExercised = []string{}
	for _, c := range r0.NeverExercised {
		if never[c] == len(rs) {
			m.NeverExercised = append(m.NeverExercised, c)
		}
	}
	mergeFailures(m, rs)
	mergeTiming(m)
	m.Extra, m.Merge.Unmerged = mergeExtra(rs)
	mergeDeterminism(m, rs)
	judgeExact(m, rs)
	return m
}

// mergeFailures keeps the lowest failing seeds (explore's list is its
// lowest explore.MaxFailuresKept, so the union's lowest are the range's),
// and the counterexample and finding of the lowest (each shard names the
// finding of its own lowest only, as one machine names the range's).
// Without -keep-going one machine stops at the lowest failing seed and
// reports only it.
func mergeFailures(m *shardReport, rs []*shardReport) {
	sort.SliceStable(m.Failures, func(i, j int) bool { return m.Failures[i].Seed < m.Failures[j].Seed })
	if len(m.Failures) > explore.MaxFailuresKept {
		m.Failures = m.Failures[:explore.MaxFailuresKept]
	}
	if len(m.Failures) == 0 {
		m.Failures = nil
		return
	}
	for i := 1; i < len(m.Failures); i++ {
		m.Failures[i].Finding = ""
	}
	lowest := m.Failures[0]
	for _, r := range rs {
		if r.Counterexample != nil && len(r.Failures) > 0 && r.Failures[0].Seed == lowest.Seed {
			m.Counterexample = r.Counterexample
		}
	}
	if !m.Run.KeepGoing {
		m.Failures = m.Failures[:1]
		m.Violations = 1
		m.ByChecker = map[string]uint64{lowest.Checker: 1}
	}
}

// mergeTiming derives the rates from the combined timing.
func mergeTiming(m *shardReport) {
	if m.ElapsedSec > 0 {
		m.StepsPerSec = float64(m.Steps) / m.ElapsedSec
	}
	if m.Merge.WorkerSec > 0 {
		m.StepsPerCore = float64(m.Steps) / m.Merge.WorkerSec
	}
	m.Merge.Timing = "elapsed_s: the longest shard's wall time (shards run side by side); elapsed_s_sum: the shards' wall times added; " +
		"workers: summed over shards; steps_per_s: steps / elapsed_s; steps_per_s_per_core: steps / worker_s (each shard's wall time times its workers); " +
		"peak_rss_bytes: the largest shard's"
}

// mergeExtra combines the fields merge does not know (added to explore's
// report after merge was written): a value every shard agrees on is kept,
// booleans that differ are or-ed (a flag such as "interrupted" is true of
// the sweep if it is true of any shard), anything else is listed per shard.
func mergeExtra(rs []*shardReport) (map[string]json.RawMessage, map[string][]json.RawMessage) {
	keys := map[string]bool{} // listed sorted
	for _, r := range rs {
		for k := range r.Extra {
			keys[k] = true
		}
	}
	out := map[string]json.RawMessage{}
	var unmerged map[string][]json.RawMessage
	for _, k := range sortedKeys(keys) {
		vals := make([]json.RawMessage, len(rs))
		same, allBool, anyTrue := true, true, false
		for i, r := range rs {
			v, ok := r.Extra[k]
			if !ok {
				v = json.RawMessage("null")
			}
			vals[i] = v
			var b bool
			if json.Unmarshal(v, &b) != nil {
				allBool = false
			}
			anyTrue = anyTrue || b
			same = same && bytes.Equal(compactJSON(v), compactJSON(vals[0]))
		}
		switch {
		case same:
			out[k] = vals[0]
		case allBool:
			out[k] = json.RawMessage(strconv.FormatBool(anyTrue))
		default:
			if unmerged == nil {
				unmerged = map[string][]json.RawMessage{}
			}
			unmerged[k] = vals
		}
	}
	return out, unmerged
}

func compactJSON(v json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
}

// determinismJSON is the "determinism" verdict explore's -json report
// carries with -determinism (added on the flags branch; merge reads it as
// an extra field so either build's reports merge).
type determinismJSON struct {
	Checked  bool   `json:"checked"`
	Worlds   uint64 `json:"worlds_rerun"`
	Diverged uint64 `json:"diverged"`
	Seed     uint64 `json:"seed,omitempty"`
	Step     uint64 `json:"step,omitempty"`
}

// mergeDeterminism recomputes the determinism verdict as explore does
// from the merged counts: every world re-run, the divergences its
// Determinism failures, seed and step the lowest diverging shard's.
func mergeDeterminism(m *shardReport, rs []*shardReport) {
	var out *determinismJSON
	for _, r := range rs {
		raw, ok := r.Extra["determinism"]
		if !ok {
			continue
		}
		var d determinismJSON
		if json.Unmarshal(raw, &d) != nil {
			return // not the shape merge knows: left to mergeExtra's rules
		}
		if out == nil {
			out = &determinismJSON{Checked: true}
		}
		out.Checked = out.Checked && d.Checked
		if d.Diverged > 0 && d.Seed != 0 && (out.Seed == 0 || d.Seed < out.Seed) {
			out.Seed, out.Step = d.Seed, d.Step
		}
	}
	if out == nil {
		return
	}
	out.Worlds, out.Diverged = m.Worlds, m.ByChecker[explore.CheckDeterminism]
	if out.Diverged == 0 {
		out.Seed, out.Step = 0, 0
	}
	data, _ := json.Marshal(out)
	m.Extra["determinism"] = data
	delete(m.Merge.Unmerged, "determinism")
}

// judgeExact says which fields are not the one-machine report's, and why.
func judgeExact(m *shardReport, rs []*shardReport) {
	var why []string
	if len(m.Merge.Missing) > 0 {
		why = append(why, "shards are missing")
	}
	if m.Run.Seeds == 0 {
		why = append(why, "the shards ran for a time budget, not a seed range, so each covers a different part of the seeds")
	} else if !m.Exhausted {
		why = append(why, "a shard stopped before its range ended (time budget or interrupt)")
	}
	failed := false
	for _, r := range rs {
		failed = failed || len(r.Failures) > 0
	}
	if failed && !m.Run.KeepGoing {
		why = append(why, "without -keep-going one machine stops at the lowest failing seed, while each shard ran on to its own first failure (rerun the shards with -keep-going for exact totals)")
	}
	if string(m.Extra["interrupted"]) == "true" {
		why = append(why, "a shard was interrupted (SIGINT)")
	}
	if len(m.Merge.Unmerged) > 0 {
		why = append(why, "fields differ between shards that merge cannot combine")
	}
	m.Merge.Exact = len(why) == 0
	if !m.Merge.Exact {
		m.Merge.Why = strings.Join(why, "; ")
		m.Merge.Inexact = []string{"last_seed", "worlds", "steps", "background", "marks_reached", "claims_exercised", "claims_never_exercised"}
		if len(m.Merge.Missing) > 0 {
			m.Merge.Inexact = append(m.Merge.Inexact, "violations", "violations_by_checker", "failures", "counterexample")
		}
	}
}

// writeMerged prints the merged report: explore -json's fields, the
// unknown fields as combined, and "merge".
func writeMerged(w io.Writer, m *shardReport) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Write(data[:len(data)-1])
	for _, k := range sortedKeys(m.Extra) {
		kj, _ := json.Marshal(k)
		fmt.Fprintf(&buf, ",%s:%s", kj, compactJSON(m.Extra[k]))
	}
	buf.WriteString("}")
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteString("\n")
	_, err = w.Write(out.Bytes())
	return err
}

// printMerged prints the merged report as explore's text summary does,
// with the timing labelled as combined.
func printMerged(w io.Writer, m *shardReport) {
	mg := m.Merge
	fmt.Fprintf(w, "merge: %d shard reports of %d", mg.Reports, mg.Shards)
	if len(mg.Missing) > 0 {
		fmt.Fprintf(w, " (missing: %s)", joinUints(mg.Missing))
	}
	if mg.Exact {
		fmt.Fprintln(w, "; every field but the timing is the one-machine report's")
	} else {
		fmt.Fprintf(w, "; NOT the one-machine report in %s: %s\n", strings.Join(mg.Inexact, ", "), mg.Why)
	}
	if len(m.Failures) > 0 {
		printMergedFailure(w, m)
	}
	elapsed := time.Duration(m.ElapsedSec * float64(time.Second)).Round(time.Millisecond)
	wps := 0.0
	if m.ElapsedSec > 0 {
		wps = float64(m.Worlds) / m.ElapsedSec
	}
	fmt.Fprintf(w, "explore: %d worlds, %s steps in %v (longest shard; %v summed) on %d workers: %.0f worlds/s, %s steps/s per core\n",
		m.Worlds, human(float64(m.Steps)), elapsed, time.Duration(mg.ElapsedSum*float64(time.Second)).Round(time.Millisecond),
		m.Workers, wps, human(m.StepsPerCore))
	fmt.Fprintf(w, "  seeds %d..%d (shard %s), %s", m.FirstSeed, m.LastSeed, m.Shard, m.Base)
	if m.Run.Determinism {
		fmt.Fprint(w, ", every seed run twice")
	}
	fmt.Fprintln(w)
	printMergedCounts(w, m)
	for _, k := range sortedKeys(m.Extra) {
		printExtra(w, k, m.Extra[k])
	}
	for _, k := range sortedKeys(mg.Unmerged) {
		parts := make([]string, len(mg.Unmerged[k]))
		for i, v := range mg.Unmerged[k] {
			parts[i] = string(compactJSON(v))
		}
		fmt.Fprintf(w, "  %s (per shard, not merged): %s\n", k, strings.Join(parts, ", "))
	}
}

// printExtra prints a field explore's report gained after merge was
// written: the ones merge knows as explore's summary prints them, others as
// their JSON.
func printExtra(w io.Writer, k string, v json.RawMessage) {
	var d determinismJSON
	switch {
	case k == "interrupted" && string(v) == "true":
		fmt.Fprintln(w, "  interrupted (SIGINT): a shard stopped handing out seeds early; the run is incomplete")
	case k == "interrupted" && string(v) == "false":
	case k == "determinism" && json.Unmarshal(v, &d) == nil && d.Diverged == 0:
		fmt.Fprintf(w, "  determinism: %d worlds re-run, no divergence\n", d.Worlds)
	case k == "determinism" && json.Unmarshal(v, &d) == nil:
		fmt.Fprintf(w, "  determinism: %d worlds re-run, %d DIVERGED (lowest seed %d, from step %d)\n", d.Worlds, d.Diverged, d.Seed, d.Step)
	default:
		fmt.Fprintf(w, "  %s: %s\n", k, compactJSON(v))
	}
}

// printMergedFailure prints the lowest failing seed and its counterexample
// as explore does (the violation's trace tail is not in a -json report:
// the reproduce lines print it).
func printMergedFailure(w io.Writer, m *shardReport) {
	f := m.Failures[0]
	fmt.Fprintf(w, "FAILING SEED %s\n", f.Options)
	fmt.Fprintf(w, "checker: %s, seed %d, step %d\n", f.Checker, f.Seed, f.Step)
	fmt.Fprint(w, indent(f.Error, "  "))
	if f.Finding != "" {
		fmt.Fprintf(w, "finding: %s\n", f.Finding)
	}
	if cx := m.Counterexample; cx != nil {
		fmt.Fprintf(w, "counterexample: %d actions (%d external)", len(cx.Actions), cx.External)
		if cx.Shrink != "" {
			fmt.Fprintf(w, " [%s]", cx.Shrink)
		}
		fmt.Fprintf(w, "\n  %s\n", cx.Cluster)
		for _, a := range cx.Actions {
			fmt.Fprintf(w, "  %s\n", a)
		}
		if cx.Schedule != "" {
			fmt.Fprintf(w, "  scheduler choices: %s\n", cx.Schedule)
		}
		if cx.Violation != "" {
			first, _, _ := strings.Cut(cx.Violation, "\n")
			fmt.Fprintf(w, "  => %s\n", first)
		}
		if cx.Path != "" {
			fmt.Fprintf(w, "written (on the shard's machine): %s\n", cx.Path)
		}
		if cx.Reproduce != "" {
			fmt.Fprintf(w, "reproduce: %s\n", cx.Reproduce)
		}
	}
	fmt.Fprintf(w, "the whole world: %s\n", f.Replay)
}

// printMergedCounts prints the violation, claim and mark lines of
// explore's summary.
func printMergedCounts(w io.Writer, m *shardReport) {
	fmt.Fprintf(w, "  violations: %d", m.Violations)
	if len(m.Failures) > 0 {
		fmt.Fprintf(w, " (lowest failing seed %d, %s)", m.Failures[0].Seed, m.Failures[0].Checker)
	}
	fmt.Fprintln(w)
	if m.Background > 0 {
		fmt.Fprintf(w, "  background: %d failing seeds failed the same way without the hazard (not counted above; the model's own failures)\n", m.Background)
	}
	if m.Violations > 1 {
		names := sortedKeys(m.ByChecker)
		sort.SliceStable(names, func(i, j int) bool { return m.ByChecker[names[i]] > m.ByChecker[names[j]] })
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s %d", n, m.ByChecker[n])
		}
		fmt.Fprintf(w, "  by checker: %s\n", strings.Join(parts, ", "))
		for i, f := range m.Failures {
			if i == 20 {
				fmt.Fprintf(w, "    ... and %d more\n", m.Violations-20)
				break
			}
			fmt.Fprintf(w, "    seed %d: %s\n", f.Seed, f.Checker)
		}
	}
	fmt.Fprintf(w, "  claims exercised: %d/%d", len(m.Exercised)-len(m.NeverExercised), len(m.Exercised))
	if len(m.NeverExercised) > 0 {
		fmt.Fprintf(w, " (never exercised: %s)", strings.Join(m.NeverExercised, ", "))
	}
	fmt.Fprintln(w)
	printMarks(w, m.Base, m.MarksReached, m.MarksUnreachable)
}
