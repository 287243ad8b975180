package main

import (
	"bytes"
	"html/template"
	"net/http"
)

// surveyPageData fills the survey pages.
type surveyPageData struct {
	Action    string // the form posts back to the page's own URL
	Reference string
	Subject   string
	Error     string
	Title     string
	Message   string
}

const surveyLayout = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{block "title" .}}How did we do?{{end}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1d2433;line-height:1.5}
fieldset{border:1px solid #ccd;border-radius:6px;margin:1rem 0;padding:.75rem 1rem}
legend{font-weight:600}
label{margin-right:1rem;white-space:nowrap}
textarea{width:100%;min-height:6rem;font:inherit}
button{font:inherit;padding:.5rem 1.25rem;border-radius:6px;border:0;background:#2a5bd7;color:#fff}
.error{color:#a8071a;font-weight:600}
</style>
</head>
<body>
{{block "body" .}}{{end}}
</body>
</html>`

var (
	surveyFormTemplate = surveyTemplate("form", `
{{define "body"}}
<h1>How did we do?</h1>
{{if .Reference}}<p>Your case {{.Reference}}{{if .Subject}}: {{.Subject}}{{end}}</p>{{end}}
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<fieldset>
<legend>How satisfied are you with how we handled your issue? (1 = very unsatisfied, 5 = very satisfied)</legend>
{{range $i := scores}}<label><input type="radio" name="score" value="{{$i}}" required> {{$i}}</label>
{{end}}</fieldset>
<fieldset>
<legend>Was your issue resolved?</legend>
<label><input type="radio" name="resolved" value="yes" required> Yes</label>
<label><input type="radio" name="resolved" value="no"> No</label>
</fieldset>
<p><label for="comment">Anything you would like to tell us? (optional)</label></p>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
<p><button type="submit">Send my answer</button></p>
</form>
{{end}}`)

	surveyThanksTemplate = surveyTemplate("thanks", `
{{define "title"}}Thank you{{end}}
{{define "body"}}<h1>Thank you!</h1>
<p>We have recorded your answer. It helps us do better.</p>{{end}}`)

	surveyMessageTemplate = surveyTemplate("message", `
{{define "title"}}{{.Title}}{{end}}
{{define "body"}}<h1>{{.Title}}</h1>
<p>{{.Message}}</p>{{end}}`)
)

// surveyTemplate is the layout with a page's blocks.
func surveyTemplate(name, blocks string) *template.Template {
	funcs := template.FuncMap{"scores": func() []int { return []int{1, 2, 3, 4, 5} }}
	return template.Must(template.Must(template.New(name).Funcs(funcs).Parse(surveyLayout)).Parse(blocks))
}

// renderHTML writes a page; a template error becomes a plain 500.
func renderHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
