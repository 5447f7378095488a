// Package serve is the step-through viewer's HTTP handler: it serves the
// page of a run and of every branch forked from it ("/?path=STEP:ACTION,..."),
// and a branch's replayable script ("/export?path=..."). It is the one
// viewer package that is not deterministic (net/http, a lock around its
// cache of captured branches), so sim/lint_test.go exempts it by package
// and holds scenarios/view, which does the capturing, to the contract;
// what it serves is still a pure function of the path its URL names.
//
// It mirrors no PolarDB file. Its tests include the viewer's browser tests
// (headless Chromium through chromedp; they skip without a browser unless
// PROMOTESIM_BROWSER=require).
package serve
