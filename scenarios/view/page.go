package view

import (
	"embed"
	"html"
	"strings"
)

//go:embed web/index.html web/style.css web/draw.js web/app.js
var web embed.FS

func asset(name string) string {
	b, err := web.ReadFile("web/" + name)
	if err != nil {
		panic(err) // embedded at build time: a missing file does not build
	}
	return string(b)
}

// Page renders d as one self-contained HTML page: the style, the scripts
// and the document are inlined, so it loads from a file with no network.
// mode is "server" (fork buttons are links to the server) or "static".
func Page(d *Doc, mode string) ([]byte, error) {
	d.Mode = mode
	js, err := d.JSON()
	if err != nil {
		return nil, err
	}
	// encoding/json escapes <, > and & in strings, so the document cannot
	// close its <script> element.
	r := strings.NewReplacer("{{TITLE}}", html.EscapeString(d.Title), "{{STYLE}}", asset("style.css"),
		"{{SCRIPT}}", asset("draw.js")+"\n"+asset("app.js"), "{{DOC}}", string(js))
	return []byte(r.Replace(asset("index.html"))), nil
}
