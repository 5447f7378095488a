package view

// server.go is the viewer's HTTP handler, the one file of this package that
// is not deterministic (net/http, a lock around its cache): the lint of
// lint_test.go exempts it by name. What it serves is deterministic: each
// page is the capture of the path its URL names.

import (
	"fmt"
	"net/http"
	"sync"
)

// Handler serves root and its branches: "/?path=STEP:ACTION,..." is the
// page of a branch (no path: the root run), "/export?path=..." its script.
func Handler(root Program) http.Handler {
	s := &server{root: root, cache: map[string]resolved{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.page)
	mux.HandleFunc("/export", s.export)
	return mux
}

type resolved struct {
	p Program
	d *Doc
}

type server struct {
	root  Program
	mu    sync.Mutex
	cache map[string]resolved // by path; looked up only
}

func (s *server) resolve(path string) (resolved, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.cache[path]; ok {
		return r, nil
	}
	pp, err := ParsePath(path)
	if err != nil {
		return resolved{}, err
	}
	p, d, err := Resolve(s.root, pp)
	if err != nil {
		return resolved{}, err
	}
	if len(s.cache) > 64 {
		clear(s.cache)
	}
	s.cache[path] = resolved{p, d}
	return s.cache[path], nil
}

func (s *server) page(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/" {
		http.NotFound(w, req)
		return
	}
	r, err := s.resolve(req.URL.Query().Get("path"))
	if err != nil {
		http.Error(w, "promotesim view: "+err.Error(), http.StatusBadRequest)
		return
	}
	page, err := Page(r.d, "server")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page)
}

func (s *server) export(w http.ResponseWriter, req *http.Request) {
	r, err := s.resolve(req.URL.Query().Get("path"))
	if err != nil {
		http.Error(w, "promotesim view: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "promotesim-branch.txt"))
	_, _ = w.Write([]byte(r.d.Script))
}
