package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/view"
	"promotesim/sim"
)

// The browser tests drive Debian's Chromium headless through chromedp.
// Without a browser they skip, saying how to run them; with
// PROMOTESIM_BROWSER=require (as .ci/run sets) a missing browser fails.
// Screenshots go to PROMOTESIM_SCREENSHOTS (default: a directory under
// os.TempDir), never into the source tree.

const howToRun = "install Chromium (apt-get install -y chromium) or set PROMOTESIM_CHROME=/path/to/chrome, " +
	"then: go test ./scenarios/view/serve -run Browser -v (PROMOTESIM_BROWSER=require makes a missing browser a failure)"

func chromePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMOTESIM_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("PROMOTESIM_BROWSER") == "require" {
		t.Fatalf("PROMOTESIM_BROWSER=require but no Chromium found: %s", howToRun)
	}
	t.Skipf("browser tests skipped: no Chromium found; %s", howToRun)
	return ""
}

// browser starts a headless Chromium with a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromePath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1700, 1300),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	pl := watchPage(t, ctx)
	// An uncaught exception is a defect of the page even when the test's
	// own checks pass.
	t.Cleanup(func() {
		if ex := pl.exceptions(); ex != "" {
			t.Errorf("the page threw:\n%s", ex)
		}
	})
	return context.WithValue(ctx, pageLogKey{}, pl)
}

type pageLogKey struct{}

// failf fails the test with what the page was showing and what it said.
func failf(t *testing.T, ctx context.Context, format string, args ...any) {
	t.Helper()
	pl, _ := ctx.Value(pageLogKey{}).(*pageLog)
	said := pl.String()
	if said == "" {
		said = "(nothing)"
	}
	t.Fatalf("%s\npage: %s\nthe page said:\n%s", fmt.Sprintf(format, args...), pageState(ctx), said)
}

func shotDir(t *testing.T) string {
	dir := os.Getenv("PROMOTESIM_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "promotesim-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(shotDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// open loads url and waits for the page to say it is ready.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), poll("window.viewerReady === true")); err != nil {
		failf(t, ctx, "open %s: %v", url, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		failf(t, ctx, "evaluate %s: %v", js, err)
	}
	return v
}

func press(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(key)); err != nil {
		t.Fatalf("key %q: %v", key, err)
	}
}

// n2BGW is the BGW state the page shows for n2.
const n2BGW = `document.getElementById("node-n2").dataset.bgw`

// TestBrowserSwitchover: open the viewer on the switchover demo, go to the
// remount with the "next event of a process" control, step to the BGW's
// WAITING_RESET with the keyboard and check it lights on the step the
// capture says, rewind, fork a crash, see the branch, pick another enabled
// step, export the crash branch's script and replay it as
// promotesim replay -script does.
func TestBrowserSwitchover(t *testing.T) {
	ctx := browser(t)
	root, d := switchover(t)
	var wr view.Transition
	for _, tr := range d.BGW {
		if tr.Node == "n2" && tr.To == "WAITING_RESET" {
			wr = tr
			break
		}
	}
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	open(t, ctx, srv.URL+"/")
	remount := stepToRemount(t, ctx, d, wr.Step)
	stepToWaitingReset(t, ctx, wr.Step)
	// Rewind: back to the remount, the state is the earlier one again.
	for eval[uint64](t, ctx, "viewer.step") > remount {
		press(t, ctx, "h")
	}
	if got := eval[string](t, ctx, n2BGW); got != "REPLICA_BUF_REPLAYING" {
		t.Fatalf("rewound to %d: n2's BGW %s", remount, got)
	}
	crash := forkCrash(t, ctx, wr.Step)
	pickFork(t, ctx, srv.URL, root, d, wr.Step)
	open(t, ctx, srv.URL+"/?path="+crash)
	exportAndReplay(t, ctx)
}

// TestBrowserScrubThenFork: a scrub through many steps (more than the 200
// history changes per 10 s after which Chromium drops a page's
// navigations) leaves the URL at the cursor and a fork button that still
// navigates. Before the page wrote #step only after stepping stopped, the
// fork click here did nothing.
func TestBrowserScrubThenFork(t *testing.T) {
	ctx := browser(t)
	root, d := switchover(t)
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	open(t, ctx, srv.URL+"/")
	at := d.First + (d.Last-d.First)/2
	js := fmt.Sprintf(`(() => { for (let r = 0; r < 3; r++) for (let s = %d; s <= %d; s++) setStep(s); setStep(%d); return true; })()`, d.First, d.Last, at)
	if err := chromedp.Do(ctx, evalVoid(js)); err != nil {
		failf(t, ctx, "scrub: %v", err)
	}
	if err := chromedp.Do(ctx, poll(fmt.Sprintf(`location.hash === "#step=%d"`, at))); err != nil {
		failf(t, ctx, "after the scrub the URL does not say step %d: %v", at, err)
	}
	clickFork(t, ctx, "crash.n2")
	if err := chromedp.Do(ctx, poll(`location.search.includes("crash.n2") && window.viewerReady === true && doc.path !== ""`)); err != nil {
		failf(t, ctx, "fork after a scrub: %v", err)
	}
	if got, want := eval[string](t, ctx, "doc.path"), fmt.Sprintf("%d:crash.n2", at); got != want {
		t.Fatalf("branch path %q, want %q", got, want)
	}
}

// clickFork clicks the fork panel's button for action, failing at once
// (not at the context's deadline) when the page offers none or only a
// disabled one.
func clickFork(t *testing.T, ctx context.Context, action string) {
	t.Helper()
	sel := fmt.Sprintf(`#forks button[data-action=%q]`, action)
	if state := eval[string](t, ctx, fmt.Sprintf(`(b => b ? (b.disabled ? "disabled: " + b.title : "") : "missing")(document.querySelector(%q))`, sel)); state != "" {
		failf(t, ctx, "fork button %s at step %d: %s", action, eval[uint64](t, ctx, "viewer.step"), state)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		failf(t, ctx, "click %s: %v", action, err)
	}
}

// stepToRemount clicks "next event" on n2/postmaster until the remount
// and checks the BGW has not yet moved there.
func stepToRemount(t *testing.T, ctx context.Context, d *view.Doc, waitingReset uint64) uint64 {
	lane := -1
	for i, l := range d.Lanes {
		if l.Node == "n2" && l.Name == "postmaster" {
			lane = i
		}
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("lane"), fmt.Sprint(lane))); err != nil {
		t.Fatal(err)
	}
	remount := uint64(0)
	for range 40 {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("nextev"))); err != nil {
			t.Fatal(err)
		}
		now := eval[string](t, ctx, `Array.from(document.querySelectorAll("#events tr.now")).map(r => r.textContent).join("|")`)
		if strings.Contains(now, "remount-rw") {
			remount = eval[uint64](t, ctx, "viewer.step")
			break
		}
	}
	if remount == 0 || remount >= waitingReset {
		t.Fatalf("remount found at step %d; WAITING_RESET at %d", remount, waitingReset)
	}
	if got := eval[string](t, ctx, n2BGW); got == "WAITING_RESET" {
		t.Fatalf("at the remount (step %d) n2's BGW is already %s", remount, got)
	}
	screenshot(t, ctx, "switchover-remount.png")
	return remount
}

// stepToWaitingReset steps with the keyboard until the diagram lights
// WAITING_RESET, which must be at the step the capture has.
func stepToWaitingReset(t *testing.T, ctx context.Context, want uint64) {
	for eval[string](t, ctx, n2BGW) != "WAITING_RESET" {
		if s := eval[uint64](t, ctx, "viewer.step"); s > want {
			t.Fatalf("stepped to %d without seeing WAITING_RESET (the capture has it at %d)", s, want)
		}
		press(t, ctx, "l")
	}
	if s := eval[uint64](t, ctx, "viewer.step"); s != want {
		t.Fatalf("WAITING_RESET lit at step %d, the run enters it at %d", s, want)
	}
	if row := eval[string](t, ctx, `Array.from(document.querySelectorAll("#node-n2 .procs tr")).map(r => r.textContent).find(x => x.startsWith("bgw")) || ""`); !strings.Contains(row, fmt.Sprintf("enter-waiting-reset @%d", want)) {
		t.Fatalf("n2's process table says of the BGW %q", row)
	}
	lit := eval[string](t, ctx, `document.querySelector("#node-n2 .bgw-state.lit").dataset.state`)
	if lit != "WAITING_RESET" {
		t.Fatalf("diagram lights %q", lit)
	}
	standbyShown(t, ctx)
	screenshot(t, ctx, "switchover-waiting-reset.png")
}

// standbyShown checks the standby n3 as the page draws it: its header says
// standby, its BGW diagram lights PARALLEL_REPLAYING (a standby replays
// with the LogIndex parallel replay and never takes part in the online
// promote), its processes have lanes, and its LSN axis shows every marker
// and the end of WAL inside the picture.
func standbyShown(t *testing.T, ctx context.Context) {
	t.Helper()
	if h := eval[string](t, ctx, `document.querySelector("#node-n3 h3").textContent`); !strings.HasPrefix(h, "n3 standby ") || !strings.Contains(h, "bgw=PARALLEL_REPLAYING") {
		t.Fatalf("the standby's header says %q", h)
	}
	if lit := eval[string](t, ctx, `document.querySelector("#node-n3 .bgw-state.lit").dataset.state`); lit != "PARALLEL_REPLAYING" {
		t.Fatalf("n3's diagram lights %q", lit)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#lanes text.lane[data-lane^="n3/"]').length`); n < 5 {
		t.Fatalf("n3 has %d process lanes", n)
	}
	axis := eval[string](t, ctx, `(() => { const svg = document.querySelector("#node-n3 .axis"), w = svg.getBoundingClientRect();
		const texts = Array.from(svg.querySelectorAll("text.marker"));
		const out = texts.filter(x => { const r = x.getBoundingClientRect(); return r.left < w.left - 0.5 || r.right > w.right + 0.5 || r.bottom > w.bottom + 0.5; });
		return texts.map(x => x.textContent).join("|") + (out.length ? " CLIPPED: " + out.map(x => x.textContent).join("|") : ""); })()`)
	for _, want := range []string{"replayed", "received", "end of WAL"} {
		if !strings.Contains(axis, want) {
			t.Fatalf("n3's LSN axis lacks %q: %s", want, axis)
		}
	}
	if strings.Contains(axis, "CLIPPED") {
		t.Fatalf("n3's LSN axis labels run out of the picture: %s", axis)
	}
}

// forkCrash crashes n2 at step at through the fork panel and checks the
// branch page; it returns the branch's path.
func forkCrash(t *testing.T, ctx context.Context, at uint64) string {
	if err := chromedp.Do(ctx, chromedp.Steps(evalVoid(fmt.Sprintf("setStep(%d), true", at)))); err != nil {
		t.Fatal(err)
	}
	clickFork(t, ctx, "crash.n2")
	if err := chromedp.Do(ctx, poll(`location.search.includes("crash.n2") && window.viewerReady === true && doc.path !== ""`)); err != nil {
		failf(t, ctx, "fork page: %v", err)
	}
	want := fmt.Sprintf("%d:crash.n2", at)
	if got := eval[string](t, ctx, "doc.path"); got != want {
		t.Fatalf("branch path %q, want %q", got, want)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#branchsvg line").length`); n < 3 {
		t.Fatalf("branch drawing has %d lines", n)
	}
	press(t, ctx, "End")
	if h := eval[string](t, ctx, `document.querySelector("#node-n2 h3").textContent`); !strings.HasPrefix(h, "n2 down") {
		t.Fatalf("after the crash n2 shows %q", h)
	}
	screenshot(t, ctx, "switchover-fork-crash.png")
	return want
}

// pickFork goes back to the root, checks that the page offers a pick at
// exactly the steps view.Branch accepts one (not inside a command a script
// cannot cut), and picks the second enabled step at the first step after
// from where it can.
func pickFork(t *testing.T, ctx context.Context, url string, root view.Program, d *view.Doc, from uint64) {
	var steps []uint64
	var offered []bool
	at := uint64(0)
	for _, sn := range d.Snaps {
		if sn.Step <= from || len(sn.Cands) < 2 {
			continue
		}
		_, err := view.Branch(root, d, view.Fork{Step: sn.Step, Action: "pick.1"})
		steps, offered = append(steps, sn.Step), append(offered, err == nil)
		if err == nil && at == 0 {
			at = sn.Step
		}
	}
	if at == 0 || !slices.Contains(offered, false) {
		t.Fatalf("after step %d: no step a pick can fork at, or none it cannot (%d steps with a choice)", from, len(steps))
	}
	open(t, ctx, fmt.Sprintf("%s/#step=%d", url, at))
	js, _ := json.Marshal(steps)
	got := eval[[]bool](t, ctx, fmt.Sprintf(`%s.map(s => (setStep(s), !document.querySelector('#forks button[data-action="pick.1"]').disabled))`, js))
	for i := range steps {
		if got[i] != offered[i] {
			t.Fatalf("step %d: the page offers pick.1: %v; view.Branch accepts it: %v", steps[i], got[i], offered[i])
		}
	}
	if err := chromedp.Do(ctx, chromedp.Steps(evalVoid(fmt.Sprintf("setStep(%d), true", at)))); err != nil {
		t.Fatal(err)
	}
	clickFork(t, ctx, "pick.1")
	if err := chromedp.Do(ctx, poll(`location.search.includes("pick.1") && window.viewerReady === true && doc.path !== ""`)); err != nil {
		failf(t, ctx, "pick page: %v", err)
	}
	if got := eval[string](t, ctx, "doc.path"); got != fmt.Sprintf("%d:pick.1", at) {
		t.Fatalf("pick branch path %q", got)
	}
}

// exportAndReplay takes the script the export button downloads, replays it
// as replay -script does, and captures it again: the same run.
func exportAndReplay(t *testing.T, ctx context.Context) {
	script := eval[string](t, ctx, "doc.script")
	file := filepath.Join(t.TempDir(), "branch.txt")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := replayScript(t, file); v != nil {
		t.Fatalf("replaying the branch: %v", v)
	}
	p2, err := view.ScriptProgram(file, []byte(script))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := view.Capture(p2)
	if err != nil {
		t.Fatal(err)
	}
	if bd := eval[uint64](t, ctx, "doc.last"); d2.Last != bd {
		t.Fatalf("the replayed script ends at step %d, the branch at %d", d2.Last, bd)
	}
}

// bigProgram is a run of about steps steps: load on n1 with a replica
// replaying it, command after command.
func bigProgram(steps int) view.Program {
	p := view.Program{Title: "big run", Source: "test", Seed: 1, Stages: []string{"load"}}
	p.Cmds = append(p.Cmds, view.ProgCmd{Text: "cluster nodes=2 pages=8"})
	for i := 0; i < steps/680+1; i++ { // about 680 steps each
		p.Cmds = append(p.Cmds, view.ProgCmd{Text: "writes node=1 count=20"}, view.ProgCmd{Text: "run steps=200"})
	}
	return p
}

// TestBrowserLoad20k: a 20,000-step run loads and steps smoothly; the load
// time and the time per step are measured in the page and logged.
func TestBrowserLoad20k(t *testing.T) {
	ctx := browser(t)
	d, err := view.Capture(bigProgram(20000))
	if err != nil {
		t.Fatal(err)
	}
	if d.Last-d.First < 20000 {
		t.Fatalf("the big run has %d steps", d.Last-d.First)
	}
	page, err := view.Page(d, "static")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "big.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	open(t, ctx, "file://"+file)
	wall := time.Since(start)
	load := eval[float64](t, ctx, "window.viewerReadyAt")
	perStep := eval[float64](t, ctx, `(() => { const t0 = performance.now(); for (let i = 0; i < 200; i++) setStep(viewer.step + 1); return (performance.now() - t0) / 200; })()`)
	t.Logf("20k-step run: %d steps, page %d bytes; ready %.0f ms after navigation start (%.0f ms wall incl. browser), %.2f ms per step", d.Last-d.First, len(page), load, float64(wall.Milliseconds()), perStep)
	// The figures are reported, not asserted: a timed assertion would fail
	// on a loaded machine (a false alarm); a page that never becomes ready
	// fails open's poll deadline instead.
	if load <= 0 || perStep <= 0 {
		t.Fatalf("no figures measured: load %.0f ms, %.2f ms per step", load, perStep)
	}
	screenshot(t, ctx, "big-run.png")
}

// poll waits for js to be true, again after a navigation destroyed the
// page it was polling; it gives up at once when the page throws (the
// failure then says why instead of waiting out the minute).
func poll(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		pl, _ := ctx.Value(pageLogKey{}).(*pageLog)
		deadline := time.Now().Add(time.Minute)
		for {
			_, err := chromedp.Poll[bool](js, chromedp.WithPollingTimeout(min(time.Second, time.Until(deadline))))(ctx, t)
			if err == nil || time.Now().After(deadline) {
				return chromedp.Void{}, err
			}
			if pl != nil && pl.exceptions() != "" {
				return chromedp.Void{}, fmt.Errorf("waiting for %s: the page threw", js)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func evalVoid(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](js)(ctx, t)
		return chromedp.Void{}, err
	}
}

// TestBrowserViolationAndPlay: a saved page of a counterexample (no
// server) jumps to its violation with "v", plays and pauses, and exports
// the script it embeds.
func TestBrowserViolationAndPlay(t *testing.T) {
	ctx := browser(t)
	_, d := counterexample(t)
	page, err := view.Page(d, "static")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cx.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, "file://"+file)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("play"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, poll(fmt.Sprintf("viewer.step > %d", d.First+10))); err != nil {
		failf(t, ctx, "play did not move: %v", err)
	}
	press(t, ctx, " ") // pause
	s1 := eval[uint64](t, ctx, "viewer.step")
	if err := chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if s2 := eval[uint64](t, ctx, "viewer.step"); s2 != s1 {
		t.Fatalf("paused at %d but moved to %d", s1, s2)
	}
	press(t, ctx, "v")
	if s := eval[uint64](t, ctx, "viewer.step"); s != d.Violation.Step {
		t.Fatalf("v jumped to %d, the violation is at %d", s, d.Violation.Step)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#node-n2 .bgw-edge.illegal").length`); n != 1 {
		t.Fatalf("the illegal BGW transition is drawn %d times on n2", n)
	}
	if msg := eval[string](t, ctx, `document.getElementById("violationbox").textContent`); !strings.Contains(msg, "BGWLegalTransitions") {
		t.Fatalf("violation box %q", msg)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#forks button:not([disabled])").length`); n != 0 {
		t.Fatalf("a saved page offers %d enabled fork buttons", n)
	}
	if got := eval[string](t, ctx, "doc.script"); got != d.Script || !strings.Contains(got, "# checker: BGWLegalTransitions") {
		t.Fatalf("embedded script differs from the document's")
	}
	screenshot(t, ctx, "counterexample-violation.png")
}

// counterexample is the checked-in counterexample of the skip-wait-reset
// hazard (an illegal BGW transition) and its captured run.
func counterexample(t *testing.T) (view.Program, *view.Doc) {
	t.Helper()
	path := "../../testdata/counterexamples/skip-wait-reset-BGWLegalTransitions-22.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := view.ScriptProgram(path, data)
	if err != nil {
		t.Fatal(err)
	}
	d, err := view.Capture(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

// replayScript runs a script file as promotesim replay -script does and
// returns the violation it meets.
func replayScript(t *testing.T, file string) *sim.Violation {
	t.Helper()
	cx, err := explore.ReadCounterexample(file)
	if err != nil {
		t.Fatalf("%s does not parse as replay -script reads it: %v", file, err)
	}
	return cx.Replay(nil, 0, 0)
}
