package serve

import (
	"fmt"
	"net/http"
	"sync"

	"promotesim/scenarios/view"
)

// Handler serves root and its branches: "/?path=STEP:ACTION,..." is the
// page of a branch (no path: the root run), "/export?path=..." its script.
func Handler(root view.Program) http.Handler {
	s := &server{root: root, cache: map[string]*view.Doc{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.page)
	mux.HandleFunc("/export", s.export)
	// A browser asks every page load for an icon; "no content" keeps a 404
	// of it out of the console, where a real failure should stand alone.
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

// server caches the branches it resolved: the page and its export of one
// path are two requests, and capturing a branch replays its whole run.
type server struct {
	root  view.Program
	mu    sync.Mutex
	cache map[string]*view.Doc // by path; looked up only
}

// resolve is the document of the branch path names (view.ParsePath).
func (s *server) resolve(path string) (*view.Doc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.cache[path]; ok {
		return d, nil
	}
	pp, err := view.ParsePath(path)
	if err != nil {
		return nil, err
	}
	_, d, err := view.Resolve(s.root, pp)
	if err != nil {
		return nil, err
	}
	if len(s.cache) > 64 {
		clear(s.cache)
	}
	s.cache[path] = d
	return d, nil
}

func (s *server) page(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/" {
		http.NotFound(w, req)
		return
	}
	d, err := s.resolve(req.URL.Query().Get("path"))
	if err != nil {
		http.Error(w, "promotesim view: "+err.Error(), http.StatusBadRequest)
		return
	}
	page, err := view.Page(d, "server")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page)
}

func (s *server) export(w http.ResponseWriter, req *http.Request) {
	d, err := s.resolve(req.URL.Query().Get("path"))
	if err != nil {
		http.Error(w, "promotesim view: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "promotesim-branch.txt"))
	_, _ = w.Write([]byte(d.Script))
}
