package main

import (
	"fmt"
	"html/template"
	"time"

	"github.com/tierflow/tierflow"
)

// approvalPageData fills the approval link pages.
type approvalPageData struct {
	Action   string // the form posts back to the page's own URL (the token is the credential)
	Decision tierflow.Action
	Case     tierflow.CaseView
	Approval tierflow.Approval
	Approver tierflow.Principal
	Expires  time.Time
	After    tierflow.CaseView // the case after the decision
	Title    string
	Message  string
	Fields   []tierflow.FieldError
	// Unchanged says the refusal changed nothing (not after a failure).
	Unchanged bool
}

func newApprovalPageData(action string, link tierflow.ApprovalLink, view tierflow.CaseView) approvalPageData {
	d := approvalPageData{Action: action, Decision: link.Decision, Case: view, Approver: link.Approver(), Expires: link.Expires}
	if view.PendingApproval != nil {
		d.Approval = *view.PendingApproval
	}
	return d
}

// Approve reports whether the page is the approve link's.
func (d approvalPageData) Approve() bool { return d.Decision == tierflow.ActionApprove }

// Amount writes the approval's amount as "250.00 EUR".
func (d approvalPageData) Amount() string {
	cents, sign := d.Approval.AmountCents, ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, d.Approval.Currency)
}

var (
	approvalFormTemplate = approvalTemplate("form", `
{{define "title"}}{{if .Approve}}Approve{{else}}Reject{{end}} a compensation{{end}}
{{define "body"}}
<h1>{{if .Approve}}Approve{{else}}Reject{{end}} this compensation?</h1>
<table>
<tr><th scope="row">Case</th><td>{{.Case.ExternalID}}{{with .Case.Subject}}: {{.}}{{end}} ({{.Case.ID}})</td></tr>
<tr><th scope="row">Amount</th><td><strong>{{.Amount}}</strong></td></tr>
<tr><th scope="row">For</th><td>{{.Approval.Description}}</td></tr>
<tr><th scope="row">Proposed by</th><td>{{.Approval.RequestedBy}}</td></tr>
<tr><th scope="row">Decided as</th><td>{{.Approver.Name}}</td></tr>
<tr><th scope="row">Link valid until</th><td>{{.Expires.Format "2 Jan 2006 15:04 MST"}}</td></tr>
</table>
<form method="post" action="{{.Action}}">
<input type="hidden" name="decision" value="{{.Decision}}">
<p><label for="comment">Comment for the case record (optional; you may sign it with your name)</label></p>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
<p><button type="submit" class="{{.Decision}}">{{if .Approve}}Approve{{else}}Reject{{end}} {{.Amount}}</button></p>
</form>
<p class="note">Nothing is decided until you press the button. The link works once.</p>
{{end}}`)

	approvalDoneTemplate = approvalTemplate("done", `
{{define "title"}}Decision recorded{{end}}
{{define "body"}}<h1>{{if .Approve}}Approved{{else}}Rejected{{end}}</h1>
<p>The compensation of <strong>{{.Amount}}</strong> on case {{.Case.ExternalID}} ({{.Case.ID}}) is {{if .Approve}}approved{{else}}rejected{{end}}, recorded as {{.Approver.Name}}. The case is now {{.After.Status}}.</p>{{end}}`)

	approvalMessageTemplate = approvalTemplate("message", `
{{define "title"}}{{.Title}}{{end}}
{{define "body"}}<h1>{{.Title}}</h1>
<p role="alert">{{.Message}}</p>
{{with .Fields}}<ul>{{range .}}<li>{{.Field}}: {{.Message}}</li>{{end}}</ul>{{end}}
{{if .Unchanged}}<p class="note">Nothing was changed.</p>{{end}}{{end}}`)
)

// approvalLayout is the survey pages' layout with a table and two button colours.
const approvalLayout = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{block "title" .}}Approval{{end}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1d2433;line-height:1.5}
table{border-collapse:collapse;margin:1rem 0}
th{text-align:left;font-weight:normal;color:#4b5563;padding:.2rem 1rem .2rem 0;vertical-align:top}
textarea{width:100%;min-height:5rem;font:inherit}
button{font:inherit;padding:.5rem 1.25rem;border-radius:6px;border:0;color:#fff;background:#15803d}
button.reject{background:#b91c1c}
.note{color:#4b5563;font-size:.9rem}
</style>
</head>
<body>
{{block "body" .}}{{end}}
</body>
</html>`

func approvalTemplate(name, blocks string) *template.Template {
	return template.Must(template.Must(template.New(name).Parse(approvalLayout)).Parse(blocks))
}
