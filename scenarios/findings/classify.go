package findings

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"promotesim/sim"
)

// Other is the class of a violation that matches no finding's signature.
const Other = "other"

// Event is one trace event as the JSON-lines trace writes it
// (sim.Event.JSON).
type Event struct {
	Step   uint64            `json:"step"`
	Actor  string            `json:"actor"`
	Verb   string            `json:"verb"`
	Fields map[string]string `json:"fields"`
}

// ReadJSONL parses a JSON-lines trace (sim.FormatJSONL). Every line must be
// an event: a trace mixed with other output would be misread, not skipped.
func ReadJSONL(r io.Reader) ([]Event, error) {
	var evs []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("findings: trace line %d: %v", n, err)
		}
		if e.Actor == "" || e.Verb == "" {
			return nil, fmt.Errorf("findings: trace line %d is not an event: %q", n, sc.Text())
		}
		evs = append(evs, e)
	}
	return evs, sc.Err()
}

// Class is what Classify made of one violation.
type Class struct {
	// Finding is docs/findings.md's name (F1 .. F4) or Other.
	Finding string
	// Variant tells a finding's forms apart (F1's overwriting state,
	// F2's mount at the reinitialisation, how F4's startup was told to
	// promote); empty when it has one form.
	Variant string
	// Why is the evidence: the trace event that matched, or for Other
	// the violation itself.
	Why string
	// Title is the finding's heading in docs/findings.md (empty for
	// Other): what a reader of explore's report needs to recognise it.
	Title string
}

func (c Class) String() string {
	if c.Variant == "" {
		return c.Finding
	}
	return c.Finding + " (" + c.Variant + ")"
}

// signature is one finding's test of a violation and its node's trace.
type signature struct {
	finding, title string
	checker        string
	match          func(v *sim.Violation, t nodeTrace) (variant, why string, ok bool)
}

// signatures are the findings (a checker may have several). PolarDB 11's
// V11-2 carries F5's signature (the same stale pooled copy written back:
// V11's reset never evicts, V15's only when bg_replayed_lsn is below the
// redo); a trace does not say its profile, so it is classified F5 and
// promotesim classify names it V11-2 under profile v11.
var signatures = []signature{
	{"F1", "WAITING_RESET is overwritten; the promote hangs", "BGWLegalTransitions", matchF1},
	{"F2", "A child crash during the promote loses the promote", "PromoteCompletes", matchF2},
	{"F3", "A read error in the final read makes the promote PANIC", "NoUnexpectedExit", matchF3},
	{"F4", "After a prewarm wake-up the reset moves replayed_oldest_lsn back", "FakeOldestMonotone", matchF4},
	{"F5", "The reset evicts nothing when the BGW is past the redo; the new primary writes a stale page over newer storage", "StoredPageNeverGoesBack", matchF5},
	{"F6", "A failed two-phase state-file write makes every later start FATAL", "NoUnexpectedExit", matchF6},
	{"F7", "A promote adopts a redo above a prepared transaction whose state file shared storage lacks", "PreparedSurvives", matchF7},
	{"F8", "A failed crash recovery rewinds a page below the restartpoint a promote adopts (candidate)", "ConsistentLSNDurable", matchF8},
	{"V11-1", "PolarDB 11 promotes under a replica read, and the fake oldest LSN goes back", "NoUnexpectedExit", matchV111},
}

// v112Title is V11-2's heading: F5's signature under profile v11
// (promotesim classify renames it).
const v112Title = "PolarDB 11's reset keeps a stale buffer, and the new primary writes it over newer storage"

// Titles are the headings of every finding a signature names, V11-2's
// included (a test holds them to docs/findings.md).
func Titles() map[string]string {
	m := map[string]string{"V11-2": v112Title}
	for _, s := range signatures {
		m[s.finding] = s.title
	}
	return m
}

// Classify names the finding whose signature the violation and the trace
// up to it (step level, oldest first: F5 reads replay tasks and page
// writes, which are step events) carry.
func Classify(v *sim.Violation, evs []Event) Class {
	if v == nil {
		return Class{Finding: Other, Why: "no violation"}
	}
	msg := ""
	if v.Err != nil {
		msg = v.Err.Error()
	}
	t := nodeTrace{node: violatingNode(msg), evs: upTo(evs, v.Step)}
	for _, s := range signatures {
		if s.checker != v.Checker || t.node == "" {
			continue
		}
		if variant, why, ok := s.match(v, t); ok {
			return Class{Finding: s.finding, Variant: variant, Why: why, Title: s.title}
		}
	}
	return Class{Finding: Other, Why: v.Checker + ": " + msg}
}

// violatingNode is the node a checker's message starts with ("n2 BGW
// moved ...", "n2/startup PANIC: ...") or, for PreparedSurvives and
// ConsistentLSNDurable, the node it names last ("... is not prepared on
// the primary n2", "... below consistent 0/4C0 on n2").
func violatingNode(msg string) string {
	w, _, _ := strings.Cut(msg, " ")
	if _, p, ok := strings.Cut(msg, " is not prepared on the primary "); ok {
		w, _, _ = strings.Cut(p, " ")
	} else if i := strings.LastIndex(msg, " on n"); i >= 0 && strings.HasPrefix(msg, "page ") {
		w = msg[i+len(" on "):]
	}
	w, _, _ = strings.Cut(w, "/")
	if len(w) < 2 || w[0] != 'n' {
		return ""
	}
	return w
}

func upTo(evs []Event, step uint64) []Event {
	for i, e := range evs {
		if e.Step > step {
			return evs[:i]
		}
	}
	return evs
}

// nodeTrace is the trace up to the violation, read for one node.
type nodeTrace struct {
	node string
	evs  []Event
}

// last returns the index of the node's last event of proc and verb at or
// after from (-1: none).
func (t nodeTrace) last(from int, proc, verb string) int {
	for i := len(t.evs) - 1; i >= from && i >= 0; i-- {
		if e := t.evs[i]; e.Actor == t.node+"/"+proc && e.Verb == verb {
			return i
		}
	}
	return -1
}

// life is the index where the node's current postmaster began: after its
// last pg_ctl start (a crash's reinitialisation keeps the postmaster and
// its statics, a start does not).
func (t nodeTrace) life() int {
	return t.last(0, "operator", "pg_ctl-start") + 1
}

// matchF1: the transition out of WAITING_RESET is startup's hot-standby
// wake-up, in the violation's step.
func matchF1(v *sim.Violation, t nodeTrace) (string, string, bool) {
	for i := len(t.evs) - 1; i >= 0 && t.evs[i].Step == v.Step; i-- {
		e := t.evs[i]
		if e.Actor != t.node+"/startup" || e.Fields["bgw-was"] != "POLAR_BG_WAITING_RESET" {
			continue
		}
		switch to := e.Fields["bgw"]; to {
		case "POLAR_BG_REPLICA_BUF_REPLAYING", "POLAR_BG_PARALLEL_REPLAYING":
			return "WAITING_RESET -> " + strings.TrimPrefix(to, "POLAR_BG_"), e.Actor + " " + e.Verb, true
		}
	}
	return "", "", false
}

// matchF2: in the node's postmaster life, a reinitialisation with the
// promote received and the node still a replica.
func matchF2(_ *sim.Violation, t nodeTrace) (string, string, bool) {
	for i := t.life(); i < len(t.evs); i++ {
		e := t.evs[i]
		if e.Actor == t.node+"/postmaster" && e.Verb == "reinitialise" &&
			e.Fields["received-promote"] == "true" && e.Fields["role"] == "replica" {
			return "mount=" + e.Fields["mount"], fmt.Sprintf("step %d reinitialise after %s", e.Step, e.Fields["after"]), true
		}
	}
	return "", "", false
}

// matchF3: startup's PANIC at the end of recovery, after a failed read
// since the node's last promote.
func matchF3(v *sim.Violation, t nodeTrace) (string, string, bool) {
	msg := v.Err.Error()
	if !strings.HasPrefix(msg, t.node+"/startup PANIC") || !strings.Contains(msg, "record after end of recovery") {
		return "", "", false
	}
	p := t.last(t.life(), "startup", "promote")
	if p < 0 {
		return "", "", false
	}
	if f := t.last(p, "startup", "final-read-failed"); f >= 0 {
		return "", fmt.Sprintf("step %d final-read-failed", t.evs[f].Step), true
	}
	return "", "", false
}

// matchF4: the violation is the reset's, the BGW entered WAITING_RESET
// from PARALLEL_REPLAYING, and that state was startup's wake-up in the
// final read.
func matchF4(v *sim.Violation, t nodeTrace) (string, string, bool) {
	r := t.last(0, "startup", "reset-bgw")
	if r < 0 || t.evs[r].Step != v.Step {
		return "", "", false
	}
	w := t.last(t.life(), "bgw", "enter-waiting-reset")
	if w < 0 || t.evs[w].Fields["from"] != "POLAR_BG_PARALLEL_REPLAYING" {
		return "", "", false
	}
	p := t.last(t.life(), "startup", "promote")
	h := t.last(max(p, 0), "startup", "hot-standby-in-final-read")
	if p < 0 || h < 0 || h > w || t.evs[h].Fields["bgw"] != "POLAR_BG_PARALLEL_REPLAYING" {
		return "", "", false
	}
	// How startup learnt of the promote: a trigger file lets it promote
	// (and wake the BGW) before pg_ctl promote's SIGUSR2 reaches the BGW.
	by := "promote signal"
	if t.evs[p].Fields["trigger-file"] == "true" {
		by = "trigger file"
	}
	return by, fmt.Sprintf("step %d wake-up in the final read, step %d reset", t.evs[h].Step, v.Step), true
}

// matchF5: a page written back by the promoted node's bgwriter after a
// reset that evicted nothing (bg_replayed_lsn at or above the redo), the
// page's pooled copy replayed by an ONLINE_PROMOTE worker (loaded=false:
// the copy was in the pool, not read from storage).
func matchF5(v *sim.Violation, t nodeTrace) (string, string, bool) {
	page, ok := writtenPage(v.Err.Error())
	r := t.last(t.life(), "startup", "reset-bgw")
	if !ok || r < 0 || t.evs[r].Fields["evicted"] != "0" {
		return "", "", false
	}
	last := len(t.evs) - 1
	for last > r && !t.writes(last, page) {
		last--
	}
	if last <= r || t.evs[last].Step != v.Step {
		return "", "", false
	}
	for i := r; i < last; i++ {
		e := t.evs[i]
		if strings.HasPrefix(e.Actor, t.node+"/replay") && e.Verb == "replay-task" &&
			strings.HasSuffix(e.Fields["page"], "/"+page) && e.Fields["loaded"] == "false" && e.Fields["dirtied"] == "true" {
			return "", fmt.Sprintf("step %d reset evicted nothing (bg-replayed %s, redo %s), step %d %s replayed the pooled page %s",
				t.evs[r].Step, t.evs[r].Fields["bg-replayed"], t.evs[r].Fields["redo"], e.Step, e.Actor, e.Fields["page"]), true
		}
	}
	return "", "", false
}

// writes reports whether event i is the node's bgwriter writing page.
func (t nodeTrace) writes(i int, page string) bool {
	e := t.evs[i]
	return e.Actor == t.node+"/bgwriter" && e.Verb == "write-page" && strings.HasSuffix(e.Fields["page"], "/"+page)
}

// writtenPage is the page number of StoredPageNeverGoesBack's message
// ("n2 wrote page 4 with page LSN ...").
func writtenPage(msg string) (string, bool) { return wordAfter(msg, " wrote page ") }

// wordAfter is the word of msg that follows marker.
func wordAfter(msg, marker string) (string, bool) {
	_, rest, ok := strings.Cut(msg, marker)
	if !ok {
		return "", false
	}
	w, _, ok := strings.Cut(rest, " ")
	return w, ok
}

// matchF6: startup's FATAL on a two-phase state file that a failed write
// of the node's checkpointer left behind in the same postmaster life.
func matchF6(v *sim.Violation, t nodeTrace) (string, string, bool) {
	msg := v.Err.Error()
	if !strings.HasPrefix(msg, t.node+"/startup FATAL") || !strings.Contains(msg, "two-phase state file") {
		return "", "", false
	}
	for i := t.life(); i < len(t.evs); i++ {
		e := t.evs[i]
		if e.Actor == t.node+"/checkpointer" && (e.Verb == "PANIC" || e.Verb == "FATAL") && strings.Contains(e.Fields["err"], " pg_twophase/") {
			return "", fmt.Sprintf("step %d checkpointer: %s", e.Step, e.Fields["err"]), true
		}
	}
	return "", "", false
}

// matchF7: the primary's last recovery from shared storage (a crash
// recovery, or a replica's catch-up before its own promote) starts at a
// redo that a promote took from its restartpoint (a startup's
// restartpoint inside its promote), and the lost transaction's PREPARE
// record ends at or below it: recovery never sees the record, and shared
// storage had no state file. The variant says whether the trace shows the
// file removed as a future one (restoreTwoPhaseData at a restart from an
// older checkpoint).
func matchF7(v *sim.Violation, t nodeTrace) (string, string, bool) {
	xid, ok := preparedXID(v.Err.Error())
	rec := max(t.last(t.life(), "startup", "crash-recovery"), t.last(t.life(), "startup", "catch-up"))
	if !ok || rec < 0 {
		return "", "", false
	}
	redo := t.evs[rec].Fields["redo"]
	prep, rp, removed := -1, -1, false
	for i, e := range t.evs[:rec] {
		switch {
		case e.Verb == "prepare" && e.Fields["xid"] == xid:
			prep = i
		case e.Verb == "restartpoint" && e.Fields["redo"] == redo && t.inPromote(i):
			rp = i
		case e.Verb == "WARNING" && e.Fields["xid"] == xid && strings.Contains(e.Fields["msg"], "stale two-phase state file"):
			removed = true
		}
	}
	if prep < 0 || rp < 0 || !lsnAtMost(t.evs[prep].Fields["end"], redo) {
		return "", "", false
	}
	variant := "no state file"
	if removed {
		variant = "state file removed as a future one"
	}
	return variant, fmt.Sprintf("step %d %s took its restartpoint's redo %s in a promote, above xid %s's PREPARE (end %s); step %d %s from it",
		t.evs[rp].Step, t.evs[rp].Actor, redo, xid, t.evs[prep].Fields["end"], t.evs[rec].Step, t.evs[rec].Verb), true
}

// matchF8: the node publishing the consistent LSN was promoted from its
// restartpoint's redo R, and before that promote took it another node's
// crash recovery from a redo below R ended in a FATAL or PANIC: that
// recovery may redo a page's init record or full-page image over newer
// storage and die before redoing the page's later records, and nothing
// below R is redone again. The variant is how the recovery ended.
func matchF8(_ *sim.Violation, t nodeTrace) (string, string, bool) {
	rp := -1
	for i := t.life(); i < len(t.evs); i++ {
		if e := t.evs[i]; e.Actor == t.node+"/startup" && e.Verb == "restartpoint" && t.inPromote(i) {
			rp = i
		}
	}
	if rp < 0 {
		return "", "", false
	}
	redo := t.evs[rp].Fields["redo"]
	for i := rp - 1; i >= 0; i-- {
		e := t.evs[i]
		if e.Verb != "crash-recovery" || !strings.HasSuffix(e.Actor, "/startup") || strings.HasPrefix(e.Actor, t.node+"/") ||
			!lsnBelow(e.Fields["redo"], redo) {
			continue
		}
		if end := t.recoveryEnd(i, rp); end >= 0 && (t.evs[end].Verb == "FATAL" || t.evs[end].Verb == "PANIC") {
			x := t.evs[end]
			return x.Verb, fmt.Sprintf("step %d %s crash recovery from %s, %s at step %d; step %d %s promoted from its restartpoint's redo %s",
				e.Step, e.Actor, e.Fields["redo"], x.Verb, x.Step, t.evs[rp].Step, t.evs[rp].Actor, redo), true
		}
	}
	return "", "", false
}

// recoveryEnd is the index of the recovery-done, FATAL or PANIC of the
// startup whose recovery began at i, before index limit (-1: none).
func (t nodeTrace) recoveryEnd(i, limit int) int {
	actor := t.evs[i].Actor
	for j := i + 1; j < limit; j++ {
		if e := t.evs[j]; e.Actor == actor {
			switch e.Verb {
			case "recovery-done", "FATAL", "PANIC":
				return j
			}
		}
	}
	return -1
}

// lsnBelow compares two LSNs as the trace prints them.
func lsnBelow(a, b string) bool {
	x, okA := parseLSN(a)
	y, okB := parseLSN(b)
	return okA && okB && x < y
}

// inPromote reports whether the startup event at i came in a promote: the
// latest of its process's promote, crash-recovery and catch-up before it
// is the promote.
func (t nodeTrace) inPromote(i int) bool {
	actor := t.evs[i].Actor
	if !strings.HasSuffix(actor, "/startup") {
		return false
	}
	for j := i - 1; j >= 0; j-- {
		if e := t.evs[j]; e.Actor == actor {
			switch e.Verb {
			case "promote":
				return true
			case "crash-recovery", "catch-up":
				return false
			}
		}
	}
	return false
}

// preparedXID is the xid of PreparedSurvives' message ("prepared
// transaction xid 5 gid g1 ...").
func preparedXID(msg string) (string, bool) { return wordAfter(msg, "prepared transaction xid ") }

// lsnAtMost compares two LSNs as the trace prints them ("0/B0").
func lsnAtMost(a, b string) bool {
	x, okA := parseLSN(a)
	y, okB := parseLSN(b)
	return okA && okB && x <= y
}

func parseLSN(s string) (uint64, bool) {
	var hi, lo uint64
	if _, err := fmt.Sscanf(s, "%X/%X", &hi, &lo); err != nil {
		return 0, false
	}
	return hi<<32 | lo, true
}

// matchV111: PolarDB 11's promote without waiting for the backends
// (promote-without-waiting in the node's life), then the BGW's assertion
// that the fake oldest LSN would move back to a backend's published LSN.
func matchV111(v *sim.Violation, t nodeTrace) (string, string, bool) {
	msg := v.Err.Error()
	if !strings.HasPrefix(msg, t.node+"/bgw PANIC") || !strings.Contains(msg, "would move back") {
		return "", "", false
	}
	p := t.last(t.life(), "postmaster", "promote-without-waiting")
	if p < 0 {
		return "", "", false
	}
	return "", fmt.Sprintf("step %d promote without waiting for %s backends", t.evs[p].Step, t.evs[p].Fields["backends"]), true
}
