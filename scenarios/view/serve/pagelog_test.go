package serve

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// pageLog keeps what the page said went wrong: uncaught exceptions,
// console errors and warnings, browser log errors (a failed resource) and
// HTTP responses of 400 and up, with the body of a failed document. A
// browser test's failure appends it, so the failure says why the page
// never became ready instead of only that a poll timed out.
type pageLog struct {
	mu    sync.Mutex
	lines []string
}

// watchPage starts recording ctx's page. chromedp runs the listener in the
// loop that reads the tab's messages, so it only appends under the lock.
func watchPage(t *testing.T, ctx context.Context) *pageLog {
	t.Helper()
	pl := &pageLog{}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			pl.add("exception: " + exceptionText(e.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
				pl.add(fmt.Sprintf("console.%s: %s", e.Type, argsText(e.Args)))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				pl.add(fmt.Sprintf("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		case *network.EventResponseReceived:
			if r := e.Response; r != nil && r.Status >= 400 {
				pl.add(fmt.Sprintf("HTTP %d %s for %s", r.Status, r.StatusText, r.URL))
			}
		case *network.EventLoadingFailed:
			if !e.Canceled {
				pl.add(fmt.Sprintf("loading failed (%s): %s", e.Type, e.ErrorText))
			}
		}
	})
	if err != nil {
		t.Fatalf("listening to the page: %v", err)
	}
	return pl
}

func (pl *pageLog) add(s string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.lines = append(pl.lines, s)
}

// String is the recorded lines, one a line ("" when the page said nothing).
func (pl *pageLog) String() string {
	if pl == nil {
		return ""
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return strings.Join(pl.lines, "\n")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	msg := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		msg += " " + d.Exception.Description // the error and its stack
	}
	return fmt.Sprintf("%s (%s:%d:%d)", msg, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

func argsText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// pageState is where the page is and what it shows, read when a wait
// failed: the URL, whether the viewer got ready, and the start of the
// body (a server error is a short text page).
func pageState(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({href: location.href, ready: window.viewerReady === true,
		path: typeof doc === "undefined" ? null : doc.path, body: (document.body ? document.body.innerText : "").slice(0, 300)})`))
	if err != nil {
		return "(page state unreadable: " + err.Error() + ")"
	}
	return s
}

// exceptions is the recorded uncaught exceptions and console errors.
func (pl *pageLog) exceptions() string {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var out []string
	for _, l := range pl.lines {
		if strings.HasPrefix(l, "exception: ") || strings.HasPrefix(l, "console.error: ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
