package serve

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"promotesim/scenarios/view"
)

// switchover is the switchover demo's program and its captured run.
func switchover(t *testing.T) (view.Program, *view.Doc) {
	t.Helper()
	p, err := view.DemoProgram("switchover")
	if err != nil {
		t.Fatal(err)
	}
	d, err := view.Capture(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestHandler: the root page, a branch page, its script, and clear 400s
// for a bad path (without a browser).
func TestHandler(t *testing.T) {
	root, _ := switchover(t)
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	code, body := get(t, srv.URL+"/")
	if code != 200 || !strings.Contains(body, `"mode":"server"`) || !strings.Contains(body, `"path":""`) {
		t.Fatalf("root: %d %.200s", code, body)
	}
	code, body = get(t, srv.URL+"/?path=192:crash.n2")
	if code != 200 || !strings.Contains(body, `"path":"192:crash.n2"`) {
		t.Fatalf("branch: %d %.200s", code, body)
	}
	code, body = get(t, srv.URL+"/export?path=192:crash.n2")
	if code != 200 || !strings.Contains(body, "# branch: 192:crash.n2") || !strings.Contains(body, "crash node=2\n----") {
		t.Fatalf("export: %d %.300s", code, body)
	}
	for _, bad := range []string{"/?path=nonsense", "/?path=5:crash.n2", "/?path=192:fly.n2", "/export?path=9999:crash.n1"} {
		if code, body := get(t, srv.URL+bad); code != http.StatusBadRequest || !strings.HasPrefix(body, "promotesim view: ") {
			t.Errorf("%s: %d %q", bad, code, body)
		}
	}
	if code, _ := get(t, srv.URL+"/nothing-here"); code != http.StatusNotFound {
		t.Errorf("unknown page: %d", code)
	}
}
