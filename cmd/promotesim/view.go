package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"promotesim/scenarios/view"
	"promotesim/scenarios/view/serve"
)

// runView serves the step-through viewer on 127.0.0.1 (like go tool trace),
// or writes one run as a self-contained page (-o FILE.html) or as Mermaid
// diagrams (-format mermaid).
func runView(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("view", "view [DEMO] | -seed S [-profile v15|v15-fixed|v11|v11-fixed] [-fence none|epoch|detect] [-hazard NAME] | -script FILE  [-path STEP:ACTION,...] [-o FILE] [-format html|mermaid] [-port N]", stderr)
	seed := fs.Uint64("seed", 0, "an explorer world's seed (as explore printed it)")
	script := fs.String("script", "", "a counterexample file (explore's, or a branch the viewer exported)")
	bf := addBaseFlags(fs, "hazard of the -seed world (promotesim hazards lists them)")
	path := fs.String("path", "", "a branch: forks as STEP:ACTION,... (the page's ?path=)")
	out := fs.String("o", "", "write the run to FILE instead of serving it (html: one self-contained page)")
	format := fs.String("format", "html", "output of -o (stdout without -o, but for html): html (one page), mermaid (diagrams) or script (the run for replay -script)")
	port := fs.Int("port", 0, "port on 127.0.0.1 to serve on (0: any free port)")
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	set := map[string]bool{} // looked up only
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	root, err := viewProgram(name, *script, *seed, set, bf)
	if err != nil {
		return err
	}
	pp, err := view.ParsePath(*path)
	if err != nil {
		return usageErr("-path: %v", err)
	}
	if *format != "html" && *format != "mermaid" && *format != "script" {
		return usageErr("-format %q: want html, mermaid or script", *format)
	}
	if *port < 0 || *port > 65535 {
		return usageErr("-port %d: want 0..65535", *port)
	}
	if *out != "" || *format != "html" {
		return writeView(root, pp, *out, *format, stdout)
	}
	if _, _, err := view.Resolve(root, pp); err != nil {
		return usageErr("%v", err)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	if *path != "" {
		url += "?path=" + *path
	}
	fmt.Fprintf(stdout, "promotesim view: %s\nserving %s (Ctrl-C stops)\n", root.Source, url)
	return http.Serve(ln, serve.Handler(root))
}

// viewProgram picks the run: a demo (the default: switchover), a world
// seed or a script; never two.
func viewProgram(name, script string, seed uint64, set map[string]bool, bf baseFlags) (view.Program, error) {
	n := 0
	for _, b := range []bool{name != "", script != "", set["seed"]} {
		if b {
			n++
		}
	}
	if n > 1 {
		return view.Program{}, usageErr("give one of DEMO, -seed S or -script FILE")
	}
	if !set["seed"] {
		for _, f := range []string{"profile", "fence", "hazard"} {
			if set[f] {
				return view.Program{}, usageErr("-%s goes with -seed (a demo or a script says its own)", f)
			}
		}
	}
	switch {
	case script != "":
		data, err := os.ReadFile(script)
		if err != nil {
			return view.Program{}, usageErr("-script: %v", err)
		}
		p, err := view.ScriptProgram(script, data)
		if err != nil {
			return view.Program{}, usageErr("-script: %v", err)
		}
		return p, nil
	case set["seed"]:
		base, _, err := bf.base(false)
		if err != nil {
			return view.Program{}, err
		}
		p, err := view.BaseWorldProgram(seed, base)
		if err != nil {
			return view.Program{}, usageErr("%v", err)
		}
		return p, nil
	}
	if name == "" {
		name = "switchover"
	}
	p, err := view.DemoProgram(name)
	if err != nil {
		return view.Program{}, usageErr("%v", err)
	}
	return p, nil
}

func writeView(root view.Program, pp view.Path, out, format string, stdout io.Writer) error {
	_, d, err := view.Resolve(root, pp)
	if err != nil {
		return usageErr("%v", err)
	}
	var data []byte
	switch format {
	case "mermaid":
		data = []byte(view.Mermaid(d))
	case "script":
		data = []byte(d.Script)
	default:
		data, err = view.Page(d, "static")
	}
	if err != nil {
		return err
	}

	if out == "" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes, steps %d..%d)\n", out, len(data), d.First, d.Last)
	return nil
}

// printMermaid writes p's run as Mermaid diagrams (demo and replay
// -format mermaid); a run that ends in a violation exits 1, as replay does.
func printMermaid(p view.Program, stdout io.Writer) error {
	d, err := view.Capture(p)
	if err != nil {
		return err
	}
	if _, err = io.WriteString(stdout, view.Mermaid(d)); err != nil {
		return err
	}
	if d.Violation != nil {
		return errViolationReported
	}
	return nil
}
