package main

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/charts"
)

// dashboardPage fills dashboardTemplate.
type dashboardPage struct {
	Form         dashboardForm
	GroupOptions []groupOption
	Errors       []tierflow.FieldError
	// Period says which cases the figures cover; JSONQuery is the same query for
	// GET /v1/reports/kpis.
	Period    string
	JSONQuery string
	GroupBy   string
	Total     dashboardSection
	Groups    []dashboardSection
}

type groupOption struct {
	Value, Label string
	Selected     bool
}

// groupOptions are the form's groupings: the ones parseKPIQuery accepts.
func groupOptions(selected string) []groupOption {
	var out []groupOption
	for _, g := range []struct{ value, label string }{
		{"", "no grouping"}, {"category", "category"}, {"department", "department"},
		{"tier", "current tier"}, {"priority", "priority"},
	} {
		out = append(out, groupOption{Value: g.value, Label: g.label, Selected: g.value == selected})
	}
	return out
}

// dashboardSection is the charts of one group of cases (or of all of them).
type dashboardSection struct {
	ID      string // prefixes the ids of its tables and charts
	Name    string
	Figures []figure // the headline figures, also a data table
	Charts  []chart
}

type figure struct{ Label, Value string }

// chart is one SVG and its data table, under a visible heading.
type chart struct {
	Title      string
	SVG, Table template.HTML
}

func newDashboardPage(report tierflow.KPIReport, form dashboardForm, params url.Values) dashboardPage {
	page := dashboardPage{
		Form: form, GroupOptions: groupOptions(report.GroupBy), GroupBy: report.GroupBy,
		Period: fmt.Sprintf("Cases opened from %s to %s (UTC, the end excluded)",
			report.From.Format("2006-01-02 15:04"), report.To.Format("2006-01-02 15:04")),
		// Colons need no escaping in a query; kept, the instants read as written.
		JSONQuery: "/v1/reports/kpis?" + strings.ReplaceAll(params.Encode(), "%3A", ":"),
		Total:     newSection("total", "All cases", report.Total),
	}
	for i, g := range report.Groups {
		name := g.Group
		if name == "" {
			name = "(none)"
		}
		page.Groups = append(page.Groups, newSection("g"+strconv.Itoa(i+1), name, g))
	}
	return page
}

// newSection draws the KPIs of one group; id prefixes its charts' ids.
func newSection(id, name string, k tierflow.KPIs) dashboardSection {
	tierNames := []string{"Tier 1 frontline", "Tier 2 specialist", "Tier 3 supervisor", "Tier 4 executive"}
	byTier := func(m map[string]int) []float64 {
		out := make([]float64, 4)
		for t := range out {
			out[t] = float64(m[strconv.Itoa(t+1)])
		}
		return out
	}
	sec := dashboardSection{ID: id, Name: name, Figures: headlineFigures(k)}
	add := func(title string, svg, table template.HTML) {
		sec.Charts = append(sec.Charts, chart{Title: title, SVG: svg, Table: table})
	}

	funnel := charts.Bars{ID: id + "-funnel", Title: "Escalation funnel", CategoryHeader: "Tier",
		Desc:       fmt.Sprintf("Of %d cases opened: how many started at each tier, and the highest tier each reached.", k.CasesOpened),
		Categories: tierNames, Series: []charts.Series{
			{Name: "cases started here", Values: byTier(k.CasesByStartTier)},
			{Name: "cases whose highest tier this was", Values: byTier(k.CasesByHighestTier)}}}
	add(funnel.Title, funnel.SVG(), funnel.Table())

	breaches := charts.Bars{ID: id + "-breaches", Title: "SLA breaches by tier and clock", CategoryHeader: "Tier",
		Desc:       fmt.Sprintf("%d SLA breaches, by the tier whose clock was breached and by clock.", sum(k.SLABreachesByTier)),
		Categories: tierNames, Series: breachSeries(k.SLABreachesByTierAndClock)}
	add(breaches.Title, breaches.SVG(), breaches.Table())

	hist := resolutionChart(id, k)
	add(hist.Title, hist.SVG(), hist.Table())

	closeTarget := shareMeter(id+"-close-target", "Resolved within the close target", k.ResolvedWithinCloseTarget, k.CasesOpened,
		"cases opened", "Cases resolved before their policy's close target broke, over cases opened.")
	add(closeTarget.Title, closeTarget.SVG(), closeTarget.Table())

	csat := charts.Bars{ID: id + "-csat", Title: "Customer satisfaction (CSAT) answers by score", CategoryHeader: "Score",
		Desc:       fmt.Sprintf("%d survey answers by score, 1 very unsatisfied to 5 very satisfied; average %s.", sum(k.CSATDistribution), csatAverage(k)),
		Categories: []string{"1", "2", "3", "4", "5"},
		Series:     []charts.Series{{Name: "answers", Values: []float64{float64(k.CSATDistribution["1"]), float64(k.CSATDistribution["2"]), float64(k.CSATDistribution["3"]), float64(k.CSATDistribution["4"]), float64(k.CSATDistribution["5"])}}}}
	add(csat.Title, csat.SVG(), csat.Table())

	response := shareMeter(id+"-response", "Survey response rate", k.SurveyResponseRate, -1, "",
		"Survey answers over surveys sent.")
	add(response.Title, response.SVG(), response.Table())

	reopen := shareMeter(id+"-reopen", "Reopen rate", k.ReopenRate, -1, "",
		"Cases reopened at least once, over cases ever resolved.")
	add(reopen.Title, reopen.SVG(), reopen.Table())

	money := compensationChart(id, k.CompensationCents)
	add(money.Title, money.SVG(), money.Table())

	top := charts.Bars{ID: id + "-categories", Title: "Top recurring categories behind escalations", CategoryHeader: "Category",
		Desc: "The categories with most escalated cases, most first.", Horizontal: true,
		Series: []charts.Series{{Name: "escalated cases"}}}
	for _, c := range k.TopCategories {
		top.Categories = append(top.Categories, c.Category)
		top.Series[0].Values = append(top.Series[0].Values, float64(c.Cases))
	}
	add(top.Title, top.SVG(), top.Table())
	return sec
}

// headlineFigures are the KPIs no chart shows on its own.
func headlineFigures(k tierflow.KPIs) []figure {
	return []figure{
		{"Cases opened", strconv.Itoa(k.CasesOpened)},
		{"Escalated cases", strconv.Itoa(k.EscalatedCases)},
		{"Escalation rate", percent(k.EscalationRate)},
		{"Resolved cases", strconv.Itoa(k.ResolvedCases)},
		{"First-tier resolution rate", percent(k.FirstTierResolutionRate)},
		{"Time to resolution, median (p50)", optDuration(k.TimeToResolutionP50)},
		{"Time to resolution, p90", optDuration(k.TimeToResolutionP90)},
		{"Resolved within 30 days", percent(k.ResolvedWithin30Days)},
		{"CSAT average", csatAverage(k)},
	}
}

// breachSeries is one series per clock that was breached, in the clocks' order
// of tierflow (then any other, by name); no breach at all gives one empty series.
func breachSeries(byTierAndClock map[string]map[string]int) []charts.Series {
	seen := map[string]bool{}
	for _, clocks := range byTierAndClock {
		for c := range clocks {
			seen[c] = true
		}
	}
	order := []string{string(tierflow.ClockAcknowledge), string(tierflow.ClockResolve), string(tierflow.ClockAnswer),
		string(tierflow.ClockCustomerUpdate), string(tierflow.ClockApproval)}
	var clocks []string
	for _, c := range order {
		if seen[c] {
			clocks = append(clocks, c)
			delete(seen, c)
		}
	}
	clocks = append(clocks, slices.Sorted(func(yield func(string) bool) {
		for c := range seen {
			if !yield(c) {
				return
			}
		}
	})...)
	if len(clocks) == 0 {
		return []charts.Series{{Name: "breaches", Values: make([]float64, 4)}}
	}
	var out []charts.Series
	for _, c := range clocks {
		s := charts.Series{Name: clockName(c) + " clock", Values: make([]float64, 4)}
		for t := range s.Values {
			s.Values[t] = float64(byTierAndClock[strconv.Itoa(t+1)][c])
		}
		out = append(out, s)
	}
	return out
}

func clockName(c string) string {
	if c == "" {
		return "unnamed"
	}
	return strings.ReplaceAll(c, "_", " ")
}

// resolutionChart is the time-to-resolution histogram with p50 and p90 marked.
func resolutionChart(id string, k tierflow.KPIs) charts.Bars {
	b := charts.Bars{ID: id + "-resolution", Title: "Time to resolution", CategoryHeader: "Time to resolution",
		Desc: fmt.Sprintf("%d resolved cases by time from opening to resolution; median (p50) %s, p90 %s.",
			k.ResolvedCases, optDuration(k.TimeToResolutionP50), optDuration(k.TimeToResolutionP90)),
		Series: []charts.Series{{Name: "resolved cases"}}}
	var bounds []float64
	for _, bucket := range k.TimeToResolutionHistogram {
		label := bucket.From.String() + "+"
		if bucket.Below != nil {
			label = bucket.From.String() + "–" + bucket.Below.String()
			if bucket.From.Duration == 0 {
				label = "< " + bucket.Below.String()
			}
		}
		b.Categories = append(b.Categories, label)
		b.Series[0].Values = append(b.Series[0].Values, float64(bucket.Cases))
		bounds = append(bounds, bucket.From.Seconds())
	}
	for _, p := range []struct {
		name string
		d    *tierflow.Duration
	}{{"p50", k.TimeToResolutionP50}, {"p90", k.TimeToResolutionP90}} {
		if p.d != nil && len(bounds) > 0 {
			b.Markers = append(b.Markers, charts.Marker{Label: p.name + " " + optDuration(p.d), At: charts.Position(bounds, p.d.Seconds())})
		}
	}
	return b
}

// compensationChart is the compensation paid per currency (never converted).
func compensationChart(id string, cents map[string]int64) charts.Bars {
	b := charts.Bars{ID: id + "-compensation", Title: "Compensation paid", CategoryHeader: "Currency", Horizontal: true,
		Desc:   "Compensation recorded or approved, per currency, in its major unit; currencies are not converted.",
		Series: []charts.Series{{Name: "amount"}}, Format: func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }}
	for _, cur := range slices.Sorted(func(yield func(string) bool) {
		for c := range cents {
			if !yield(c) {
				return
			}
		}
	}) {
		b.Categories = append(b.Categories, cur)
		b.Series[0].Values = append(b.Series[0].Values, float64(cents[cur])/100)
	}
	return b
}

// shareMeter draws a rate; with of >= 0 it also says how many cases that is.
func shareMeter(id, title string, rate float64, of int, ofWhat, desc string) charts.Meter {
	text := percent(rate)
	if of >= 0 {
		text += fmt.Sprintf(" of %d %s", of, ofWhat)
	}
	return charts.Meter{ID: id, Title: title, Desc: desc, Value: rate, Text: text}
}

// percent prints a rate with one decimal: 0.65 is "65.0%".
func percent(rate float64) string {
	return strconv.FormatFloat(math.Round(rate*1000)/10, 'f', 1, 64) + "%"
}

func optDuration(d *tierflow.Duration) string {
	if d == nil {
		return "none resolved"
	}
	return tierflow.FormatDuration(d.Round(time.Second))
}

func csatAverage(k tierflow.KPIs) string {
	if k.CSATAverage == nil {
		return "no answers"
	}
	return strconv.FormatFloat(*k.CSATAverage, 'f', 2, 64)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
