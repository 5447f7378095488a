package findings_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/findings"
	"promotesim/sim"
)

// traced replays a counterexample file with a JSON-lines step-level trace and
// returns the violation it meets and the trace's events.
func traced(t *testing.T, path string) (*sim.Violation, []findings.Event) {
	t.Helper()
	f, err := explore.ReadCounterexample(path)
	require.NoError(t, err)
	h := f.Header
	x := explore.NewReplayer(h.Seed, h.Schedule, h.Scripted, sim.LevelStep, sim.FormatJSONL)
	var buf bytes.Buffer
	x.R.TraceTo = &buf
	for _, cmd := range f.Commands {
		x.Exec(cmd)
		if x.V != nil {
			break
		}
	}
	require.NotNil(t, x.V, "%s: no violation", path)
	evs, err := findings.ReadJSONL(&buf)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	return x.V, evs
}

// Every counterexample of docs/findings.md classifies as its own finding
// (the file name's prefix): F1..F6 and V11-1 by their signatures; PolarDB
// 11's V11-2 carries F5's.
func TestFindingFilesClassifyAsThemselves(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "findings", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	seen := map[string]bool{} // looked up only
	for _, path := range files {
		name := filepath.Base(path)
		want, rest, _ := strings.Cut(name, "-")
		if want == "V11" {
			n, _, _ := strings.Cut(rest, "-")
			want += "-" + n
		}
		switch want {
		case "V11-2":
			// The same stale pooled page written back: V11's reset never
			// evicts, V15's only when bg_replayed_lsn is below the redo.
			// The trace does not say the version, so it is F5's signature.
			want = "F5"
		}
		t.Run(strings.TrimSuffix(name, ".txt"), func(t *testing.T) {
			v, evs := traced(t, path)
			c := findings.Classify(v, evs)
			require.Equal(t, want, c.Finding, "%s: %s (%s)", name, c, c.Why)
			require.NotEmpty(t, c.Why)
			require.Equal(t, findings.Titles()[want], c.Title)
			seen[c.Finding] = true
		})
	}
	for _, f := range []string{"F1", "F2", "F3", "F4", "F5", "F6", "F7", "V11-1"} {
		require.True(t, seen[f], "no counterexample classified %s", f)
	}
}

// F8, a candidate with no fix yet, has its counterexample among the open
// regressions (it fails under v15-fixed too, which TestFindings would
// refuse), the F7 hunt's world and a hand-written one; both classify as
// F8.
func TestCandidateF8Classifies(t *testing.T) {
	for _, name := range []string{"open-init-rewind-below-restartpoint-7978.txt", "open-init-rewind-below-restartpoint.txt"} {
		v, evs := traced(t, filepath.Join("..", "testdata", "regressions", name))
		c := findings.Classify(v, evs)
		require.Equal(t, "F8", c.Finding, "%s: %s (%s)", name, c, c.Why)
		require.Equal(t, "FATAL", c.Variant)
		require.Contains(t, c.Why, "n1/startup crash recovery from 0/28, FATAL at step ")
	}
}

// Every finding's title is its heading in docs/findings.md (less the
// heading's closing note in parentheses), so explore's report names the
// finding as the document does.
func TestTitlesAreTheHeadings(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "findings.md"))
	require.NoError(t, err)
	titles := findings.Titles()
	require.Len(t, titles, 10)
	for name, title := range titles { // determinism:ok each checked alone
		require.NotEmpty(t, title, name)
		require.Regexp(t, `(?m)^## `+regexp.QuoteMeta(name+". "+title)+`( \(.*\))?$`, string(doc), name)
	}
}

// edit returns a copy of evs with fn applied to each event.
func edit(evs []findings.Event, fn func(e *findings.Event) bool) []findings.Event {
	out := make([]findings.Event, 0, len(evs))
	for _, e := range evs {
		e.Fields = copyFields(e.Fields)
		if fn(&e) {
			out = append(out, e)
		}
	}
	return out
}

func copyFields(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Each signature needs its story, not only its checker: the same
// violation with the story's key event removed or changed is Other.
func TestSignaturesNeedTheirStory(t *testing.T) {
	dir := filepath.Join("..", "testdata", "findings")
	cases := []struct {
		file string
		// break the story: return false to drop the event
		mutate func(e *findings.Event) bool
	}{
		{"F1-waiting-reset-overwritten-BGWLegalTransitions.txt", func(e *findings.Event) bool {
			if e.Fields["bgw-was"] == "POLAR_BG_WAITING_RESET" {
				e.Fields["bgw-was"] = "POLAR_BG_REDO_NOT_START"
			}
			return true
		}},
		{"F2-promote-lost-after-child-crash-PromoteCompletes.txt", func(e *findings.Event) bool {
			if e.Verb == "reinitialise" {
				e.Fields["received-promote"] = "false"
			}
			return true
		}},
		{"F3-final-read-error-panics-NoUnexpectedExit.txt", func(e *findings.Event) bool {
			return e.Verb != "final-read-failed"
		}},
		{"F4-prewarm-reset-moves-fake-oldest-back-FakeOldestMonotone.txt", func(e *findings.Event) bool {
			return e.Verb != "hot-standby-in-final-read"
		}},
		{"F5-reset-keeps-stale-buffer-StoredPageNeverGoesBack.txt", func(e *findings.Event) bool {
			if e.Verb == "replay-task" {
				e.Fields["loaded"] = "true" // read from storage, not the stale pooled copy
			}
			return true
		}},
		{"V11-1-no-backend-wait-NoUnexpectedExit.txt", func(e *findings.Event) bool {
			return e.Verb != "promote-without-waiting"
		}},
		{"F6-failed-twophase-file-write-fails-restart-NoUnexpectedExit.txt", func(e *findings.Event) bool {
			return !(e.Verb == "PANIC" && strings.HasSuffix(e.Actor, "/checkpointer"))
		}},
		// F7 twice: the redo not a promote's restartpoint (a checkpoint's,
		// as under hazard skip-twophase-checkpoint), and the PREPARE above
		// the redo (recovery would replay it).
		{"F7-prepared-below-adopted-redo-PreparedSurvives.txt", func(e *findings.Event) bool {
			return e.Verb != "restartpoint"
		}},
		{"F7-prepared-below-adopted-redo-PreparedSurvives.txt", func(e *findings.Event) bool {
			if e.Verb == "prepare" {
				e.Fields["end"] = "0/FFFF"
			}
			return true
		}},
		// F8's file is an open regression (its fix is not written yet):
		// without the failed recovery's FATAL it is not F8.
		{"../regressions/open-init-rewind-below-restartpoint-7978.txt", func(e *findings.Event) bool {
			return e.Verb != "FATAL"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			v, evs := traced(t, filepath.Join(dir, tc.file))
			before := findings.Classify(v, evs)
			require.NotEqual(t, findings.Other, before.Finding)
			after := findings.Classify(v, edit(evs, tc.mutate))
			require.Equal(t, findings.Other, after.Finding, "%s still classified %s without its story: %s", tc.file, after, after.Why)
			require.Contains(t, after.Why, v.Checker)
		})
	}
}

// A trace with anything but events in it is refused, not half read.
func TestReadJSONLRefusesNonEvents(t *testing.T) {
	_, err := findings.ReadJSONL(strings.NewReader(`{"step":1,"actor":"n1/startup","verb":"promote","fields":{}}` + "\n> promote node=1\n"))
	require.Error(t, err)
	_, err = findings.ReadJSONL(strings.NewReader(`{"step":1}` + "\n"))
	require.Error(t, err)
	evs, err := findings.ReadJSONL(strings.NewReader(`{"step":7,"actor":"n2/bgw","verb":"enter-waiting-reset","fields":{"from":"POLAR_BG_PARALLEL_REPLAYING"}}` + "\n"))
	require.NoError(t, err)
	require.Equal(t, []findings.Event{{Step: 7, Actor: "n2/bgw", Verb: "enter-waiting-reset", Fields: map[string]string{"from": "POLAR_BG_PARALLEL_REPLAYING"}}}, evs)
	require.Equal(t, findings.Other, findings.Classify(nil, evs).Finding)
}
