package sendgrid

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/tierflow/tierflow"
)

//go:embed templates/*
var templateFS embed.FS

// Renderer turns an Email into its subject, plain text and HTML with the embedded
// templates. Each kind has templates/<kind>.txt (defining "subject" and "text") and
// templates/<kind>.html (defining "content", wrapped by templates/layout.html).
type Renderer struct {
	// Now anchors relative phrases such as "in about 4 hours"; nil means time.Now.
	Now  func() time.Time
	text map[tierflow.MessageKind]*texttemplate.Template
	html map[tierflow.MessageKind]*htmltemplate.Template
}

// NewRenderer parses every template; an error means a broken build.
func NewRenderer(now func() time.Time) (*Renderer, error) {
	r := &Renderer{
		Now:  now,
		text: make(map[tierflow.MessageKind]*texttemplate.Template),
		html: make(map[tierflow.MessageKind]*htmltemplate.Template),
	}
	for _, k := range tierflow.MessageKinds {
		t, err := texttemplate.New(string(k)).Option("missingkey=error").Funcs(r.funcs()).
			ParseFS(templateFS, "templates/common.txt", "templates/"+string(k)+".txt")
		if err != nil {
			return nil, fmt.Errorf("parse text template %s: %w", k, err)
		}
		h, err := htmltemplate.New(string(k)).Option("missingkey=error").Funcs(r.funcs()).
			ParseFS(templateFS, "templates/layout.html", "templates/"+string(k)+".html")
		if err != nil {
			return nil, fmt.Errorf("parse html template %s: %w", k, err)
		}
		r.text[k], r.html[k] = t, h
	}
	return r, nil
}

// defaultRenderer parses the templates once for Render.
var defaultRenderer = sync.OnceValues(func() (*Renderer, error) { return NewRenderer(nil) })

// Render renders e with the embedded templates, relative to the current time.
func Render(e tierflow.Email) (subject, text, html string, err error) {
	r, err := defaultRenderer()
	if err != nil {
		return "", "", "", err
	}
	return r.Render(e)
}

// Render renders e. An unknown kind is CodeInvalid.
func (r *Renderer) Render(e tierflow.Email) (subject, text, html string, err error) {
	tt, ok := r.text[e.Kind]
	if !ok {
		return "", "", "", tierflow.Errorf(tierflow.CodeInvalid, "no template for message kind %q", e.Kind)
	}
	v := newView(e, r.now())
	var sb, tb, hb bytes.Buffer
	if err := tt.ExecuteTemplate(&sb, "subject", v); err != nil {
		return "", "", "", fmt.Errorf("render %s subject: %w", e.Kind, err)
	}
	v.EmailSubject = strings.Join(strings.Fields(sb.String()), " ")
	if err := tt.ExecuteTemplate(&tb, "text", v); err != nil {
		return "", "", "", fmt.Errorf("render %s text: %w", e.Kind, err)
	}
	if err := r.html[e.Kind].ExecuteTemplate(&hb, "layout", v); err != nil {
		return "", "", "", fmt.Errorf("render %s html: %w", e.Kind, err)
	}
	return v.EmailSubject, tidyText(tb.String()), hb.String(), nil
}

// tidyText collapses runs of blank lines left by template actions.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var out []string
	blank := true // drop leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n")) + "\n"
}
