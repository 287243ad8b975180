package main

import "html/template"

// dashboardTemplate renders dashboardPage: a form (GET, so the URL is the view and
// can be bookmarked or shared), the headline figures, and every chart followed by
// its data table; with a grouping, a comparison table and each group's charts in
// a <details> (collapsed, no JavaScript). No script at all: the page's Content
// Security Policy (renderHTML) forbids it.
var dashboardTemplate = template.Must(template.New("dashboard").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Tierflow KPI dashboard</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1d2433;line-height:1.45;background:#f6f7f9}
header{background:#1d2433;color:#fff;padding:.75rem 1.5rem}
header h1{margin:0;font-size:1.3rem}
main{padding:1rem 1.5rem;max-width:90rem;margin:auto}
form{display:flex;flex-wrap:wrap;gap:1rem;align-items:end;background:#fff;padding:.75rem 1rem;border-radius:6px;border:1px solid #d5d9e0}
label{display:flex;flex-direction:column;font-size:.85rem;font-weight:600}
input,select,button{font:inherit;padding:.3rem .5rem}
button{background:#2a5bd7;color:#fff;border:0;border-radius:4px;padding:.4rem 1.2rem}
.errors{color:#a8071a;font-weight:600}
.period{color:#4a5263}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(30rem,1fr));gap:1rem}
figure h3{margin:0 0 .25rem;font-size:1rem}
figure{margin:0;background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:.75rem}
svg.chart{width:100%;height:auto;display:block}
svg .value{font-size:12px;font-weight:600;fill:#1d2433}
svg .category,svg .legend{font-size:12px;fill:#1d2433}
svg .axis{font-size:10px;fill:#5c6475}
svg .marker{font-size:12px;font-weight:700;fill:#111}
table{border-collapse:collapse;font-size:.85rem;margin-top:.5rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #d5d9e0;padding:.2rem .5rem;text-align:right}
th[scope=row],thead th:first-child{text-align:left}
details{background:#fff;border:1px solid #d5d9e0;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
summary{font-weight:600;cursor:pointer}
</style>
</head>
<body>
<header><h1>Tierflow KPI dashboard</h1></header>
<main>
<form method="get" action="/v1/reports/dashboard" aria-label="Period and grouping">
<label for="from">From (day, UTC)<input type="date" id="from" name="from" value="{{.Form.From}}"></label>
<label for="to">To (last day, UTC)<input type="date" id="to" name="to" value="{{.Form.To}}"></label>
<label for="group_by">Group by<select id="group_by" name="group_by">
{{range .GroupOptions}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>
{{end}}</select></label>
<button type="submit">Show</button>
</form>
{{if .Errors}}<div class="errors" role="alert"><p>The report parameters are invalid:</p><ul>
{{range .Errors}}<li>{{.Field}} {{.Message}}</li>
{{end}}</ul></div>{{else}}
<p class="period">{{.Period}}. The same figures as JSON: <code>GET {{.JSONQuery}}</code></p>
{{template "section" .Total}}
{{if .Groups}}
<h2>By {{.GroupBy}}</h2>
<table class="data" data-chart="groups"><caption>Key figures by {{.GroupBy}}</caption>
<thead><tr><th scope="col">{{.GroupBy}}</th>{{range (index .Groups 0).Figures}}<th scope="col">{{.Label}}</th>{{end}}</tr></thead>
<tbody>{{range .Groups}}<tr><th scope="row">{{.Name}}</th>{{range .Figures}}<td>{{.Value}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{range .Groups}}<details><summary>{{$.GroupBy}}: {{.Name}}</summary>{{template "section" .}}</details>
{{end}}{{end}}{{end}}
</main>
</body>
</html>
{{define "section"}}<section aria-label="{{.Name}}">
<h2>{{.Name}}</h2>
<table class="data" data-chart="{{.ID}}-figures"><caption>Key figures: {{.Name}}</caption><tbody>
{{range .Figures}}<tr><th scope="row">{{.Label}}</th><td>{{.Value}}</td></tr>
{{end}}</tbody></table>
<div class="grid">
{{range .Charts}}<figure><h3 aria-hidden="true">{{.Title}}</h3>{{.SVG}}{{.Table}}</figure>
{{end}}</div>
</section>{{end}}`))
