package sendgrid

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/tierflow/tierflow"
)

// MailboxHandler shows the dev mailbox. It works mounted at any prefix (the API
// mounts it at /dev/mailbox/ in development) and links relatively:
//
//	GET <prefix>/             list, newest first (?case=<id> filters, ?limit=n)
//	GET <prefix>/{id}         one message: headers and the HTML body
//	GET <prefix>/{id}/html    the HTML body alone
//	GET <prefix>/{id}/text    the plain-text body
func MailboxHandler(mb tierflow.Mailbox) http.Handler {
	return &mailboxHandler{mb: mb}
}

type mailboxHandler struct{ mb tierflow.Mailbox }

func (h *mailboxHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Rendered mail must never run scripts in the viewer's browser.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; frame-src 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")

	id, view, ok := parseMailboxPath(r.URL.Path)
	if !ok {
		h.list(w, r)
		return
	}
	m, err := h.mb.GetMail(r.Context(), id)
	if err != nil {
		if tierflow.ErrorCode(err) == tierflow.CodeNotFound {
			http.Error(w, "no such message", http.StatusNotFound)
			return
		}
		slog.ErrorContext(r.Context(), "dev mailbox: get mail", "mail_id", id, "error", err)
		http.Error(w, "mailbox unavailable", http.StatusServiceUnavailable)
		return
	}
	switch view {
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(m.Text))
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(m.HTML))
	default:
		render(w, r, messagePage, m)
	}
}

// parseMailboxPath finds "{id}", "{id}/text" or "{id}/html" at the end of path.
func parseMailboxPath(path string) (id int64, view string, ok bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	last := parts[len(parts)-1]
	if (last == "text" || last == "html") && len(parts) >= 2 {
		view, parts = last, parts[:len(parts)-1]
	}
	id, err := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	if err != nil || id <= 0 {
		return 0, "", false
	}
	return id, view, true
}

func (h *mailboxHandler) list(w http.ResponseWriter, r *http.Request) {
	caseID := r.URL.Query().Get("case")
	limit := 200
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= 1000 {
		limit = n
	}
	msgs, err := h.mb.ListMail(r.Context(), caseID, limit)
	if err != nil {
		slog.ErrorContext(r.Context(), "dev mailbox: list mail", "error", err)
		http.Error(w, "mailbox unavailable", http.StatusServiceUnavailable)
		return
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].ID > msgs[j].ID })
	// Links are relative to the list; make sure the list URL ends with a slash.
	base := ""
	if r.URL.Path != "" && !strings.HasSuffix(r.URL.Path, "/") {
		base = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:] + "/"
	}
	render(w, r, listPage, struct {
		Case     string
		Base     string
		Messages []tierflow.MailboxMessage
	}{caseID, base, msgs})
}

func render(w http.ResponseWriter, r *http.Request, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, data); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		slog.ErrorContext(r.Context(), "dev mailbox: render page", "error", err)
	}
}

var pageFuncs = template.FuncMap{"when": when, "join": strings.Join}

const pageStyle = `<style>
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#1f2933}
table{border-collapse:collapse;width:100%}td,th{padding:6px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
th{background:#f4f5f7}a{color:#1d4ed8}.meta td:first-child{color:#6b7280;width:8em}
iframe{width:100%;height:70vh;border:1px solid #e5e7eb}
</style>`

var listPage = template.Must(template.New("list").Funcs(pageFuncs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Dev mailbox</title>` + pageStyle + `</head><body>
<h1>Dev mailbox</h1>
<p>Emails Tierflow would have sent. Nothing here left the machine.
{{if .Case}} Showing case <strong>{{.Case}}</strong> &middot; <a href="{{.Base}}./">all cases</a>{{end}}</p>
<table>
<tr><th>#</th><th>When (UTC)</th><th>Case</th><th>Kind</th><th>To</th><th>Subject</th></tr>
{{range .Messages}}<tr>
<td><a href="{{$.Base}}{{.ID}}">{{.ID}}</a></td><td>{{when .CreatedAt}}</td>
<td><a href="{{$.Base}}?case={{.CaseID}}">{{.CaseID}}</a></td><td>{{.Kind}}</td>
<td>{{join .To ", "}}</td><td><a href="{{$.Base}}{{.ID}}">{{.Subject}}</a></td>
</tr>{{else}}<tr><td colspan="6">No messages yet.</td></tr>{{end}}
</table>
</body></html>`))

var messagePage = template.Must(template.New("message").Funcs(pageFuncs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Subject}}</title>` + pageStyle + `</head><body>
<p><a href="./">&larr; all messages</a></p>
<h1>{{.Subject}}</h1>
<table class="meta">
<tr><td>To</td><td>{{join .To ", "}}</td></tr>
<tr><td>Case</td><td><a href="./?case={{.CaseID}}">{{.CaseID}}</a></td></tr>
<tr><td>Kind</td><td>{{.Kind}}</td></tr>
<tr><td>Key</td><td>{{.Key}}</td></tr>
<tr><td>Saved</td><td>{{when .CreatedAt}}</td></tr>
<tr><td>Bodies</td><td><a href="{{.ID}}/html">HTML</a> &middot; <a href="{{.ID}}/text">plain text</a></td></tr>
</table>
<h2>HTML</h2>
<iframe sandbox title="HTML body" srcdoc="{{.HTML}}"></iframe>
<h2>Plain text</h2>
<pre style="white-space:pre-wrap">{{.Text}}</pre>
</body></html>`))
