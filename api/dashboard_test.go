package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// reportRecords answers KPIs with a fixed report (every figure set) and records
// the queries, so that the JSON report and the page are drawn from one answer.
type reportRecords struct {
	*fakeRecords
	report  tierflow.KPIReport
	queries []tierflow.KPIQuery
}

func (r *reportRecords) KPIs(_ context.Context, q tierflow.KPIQuery) (tierflow.KPIReport, error) {
	r.queries = append(r.queries, q)
	out := r.report
	out.From, out.To, out.GroupBy = q.From, q.To, q.GroupBy
	if q.GroupBy == "" {
		out.Groups = nil
	}
	return out, nil
}

func richKPIs(group string, scale int) tierflow.KPIs {
	d := func(x time.Duration) *tierflow.Duration { return &tierflow.Duration{Duration: x} }
	avg := 3.6
	hist := tierflow.NewResolutionHistogram()
	for i := range hist {
		hist[i].Cases = (i*3 + 1) % 5 * scale
	}
	return tierflow.KPIs{
		Group: group, CasesOpened: 20 * scale, EscalatedCases: 10 * scale, EscalationRate: 0.5,
		EscalationsToTier: map[string]int{"2": 9, "3": 3}, FirstTierResolutionRate: 6.0 / 14, ResolvedCases: 14 * scale,
		TimeToResolutionP50: d(7 * time.Hour), TimeToResolutionP90: d(42*time.Hour + 36*time.Minute),
		ResolvedWithin30Days: 13.0 / 20, SLABreachesByTier: map[string]int{"1": 2, "2": 3 + scale, "3": 1},
		CSATAverage: &avg, CSATDistribution: map[string]int{"1": 1, "2": 1, "3": 2, "4": 3, "5": 3 * scale},
		SurveyResponseRate: 10.0 / 13, ReopenRate: 2.0 / 14,
		CompensationCents:  map[string]int64{"EUR": 175500, "USD": 1500 * int64(scale)},
		TopCategories:      []tierflow.CategoryCount{{Category: "delivery", Cases: 3 * scale}, {Category: "billing <&>", Cases: 2}},
		CasesByStartTier:   map[string]int{"1": 16 * scale, "2": 1, "3": 2, "4": 1},
		CasesByHighestTier: map[string]int{"1": 7, "2": 7 * scale, "3": 4, "4": 2},
		SLABreachesByTierAndClock: map[string]map[string]int{
			"1": {"acknowledge": 2}, "2": {"acknowledge": 3, "resolve": scale}, "3": {"customer_update": 1}},
		TimeToResolutionHistogram: hist, ResolvedWithinCloseTarget: 12.0 / 20,
	}
}

func newDashboardEnv(t *testing.T) (*testEnv, *reportRecords) {
	env := newTestEnv(t)
	rec := &reportRecords{fakeRecords: env.records, report: tierflow.KPIReport{
		Total: richKPIs("", 1), Groups: []tierflow.KPIs{richKPIs("billing", 2), richKPIs("", 3)}}}
	env.srv.Records = rec
	env.handler = env.srv.routes()
	return env, rec
}

const dashboardPeriodQuery = "from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z"

// The page's numbers are the JSON report's: every data table, read back from the
// HTML, equals the report GET /v1/reports/kpis answers for the same query.
func TestDashboardNumbersAreTheJSONReports(t *testing.T) {
	env, _ := newDashboardEnv(t)
	for _, groupBy := range []string{"", "category"} {
		query := dashboardPeriodQuery
		if groupBy != "" {
			query += "&group_by=" + groupBy
		}
		jsonRec := env.do(request{method: "GET", token: "dev-viewer", path: "/v1/reports/kpis?" + query})
		require.Equal(t, http.StatusOK, jsonRec.Code)
		var report tierflow.KPIReport
		require.NoError(t, json.Unmarshal(jsonRec.Body.Bytes(), &report))

		page := env.do(request{method: "GET", token: "dev-viewer", path: "/v1/reports/dashboard?" + query})
		require.Equal(t, http.StatusOK, page.Code, page.Body.String())
		assert.Equal(t, "text/html; charset=utf-8", page.Header().Get("Content-Type"))
		body := page.Body.String()
		assert.NotContains(t, strings.ToLower(body), "<script", "no JavaScript")
		for _, param := range strings.Split(query, "&") {
			assert.Regexp(t, `<code>GET /v1/reports/kpis\?[^<]*`+param, body, "the page names its JSON query")
		}
		tables := dashboardTables(t, body)

		assertSectionMatches(t, tables, "total", report.Total)
		require.Len(t, report.Groups, map[string]int{"": 0, "category": 2}[groupBy])
		for i, g := range report.Groups {
			assertSectionMatches(t, tables, "g"+strconv.Itoa(i+1), g)
		}
		if groupBy != "" {
			groups := cellsByRow(tables["groups"])
			assert.Equal(t, strconv.Itoa(report.Groups[0].CasesOpened), groups["billing"][0])
			assert.Equal(t, strconv.Itoa(report.Groups[1].CasesOpened), groups["(none)"][0])
		}
	}
}

// assertSectionMatches checks every table of one section against k.
func assertSectionMatches(t *testing.T, tables map[string][][]string, id string, k tierflow.KPIs) {
	t.Helper()
	figures := cellsByRow(tables[id+"-figures"])
	assert.Equal(t, k.CasesOpened, atoi(t, figures["Cases opened"][0]))
	assert.Equal(t, k.EscalatedCases, atoi(t, figures["Escalated cases"][0]))
	assert.InDelta(t, k.EscalationRate, parsePercent(t, figures["Escalation rate"][0]), 0.0005)
	assert.Equal(t, k.ResolvedCases, atoi(t, figures["Resolved cases"][0]))
	assert.InDelta(t, k.FirstTierResolutionRate, parsePercent(t, figures["First-tier resolution rate"][0]), 0.0005)
	assert.InDelta(t, k.TimeToResolutionP50.Seconds(), parseDashboardDuration(t, figures["Time to resolution, median (p50)"][0]).Seconds(), 1)
	assert.InDelta(t, k.TimeToResolutionP90.Seconds(), parseDashboardDuration(t, figures["Time to resolution, p90"][0]).Seconds(), 1)
	assert.InDelta(t, k.ResolvedWithin30Days, parsePercent(t, figures["Resolved within 30 days"][0]), 0.0005)
	assert.InDelta(t, *k.CSATAverage, parseFloat(t, figures["CSAT average"][0]), 0.005)

	tierRows := []string{"Tier 1 frontline", "Tier 2 specialist", "Tier 3 supervisor", "Tier 4 executive"}
	funnel := cellsByRow(tables[id+"-funnel"])
	breaches := tables[id+"-breaches"]
	require.NotEmpty(t, breaches)
	clockOf := breaches[0][1:] // "acknowledge clock", ...
	breachRows := cellsByRow(breaches[1:])
	for i, row := range tierRows {
		tier := strconv.Itoa(i + 1)
		assert.Equal(t, k.CasesByStartTier[tier], atoi(t, funnel[row][0]), "started at %s", row)
		assert.Equal(t, k.CasesByHighestTier[tier], atoi(t, funnel[row][1]), "highest %s", row)
		total := 0
		for c, header := range clockOf {
			clock := strings.ReplaceAll(strings.TrimSuffix(header, " clock"), " ", "_")
			n := atoi(t, breachRows[row][c])
			assert.Equal(t, k.SLABreachesByTierAndClock[tier][clock], n, "%s, %s", row, header)
			total += n
		}
		assert.Equal(t, k.SLABreachesByTier[tier], total, "breaches at %s", row)
	}

	hist := tables[id+"-resolution"][1:]
	require.Len(t, hist, len(k.TimeToResolutionHistogram))
	for i, b := range k.TimeToResolutionHistogram {
		assert.Equal(t, b.Cases, atoi(t, hist[i][1]), "bucket %s", hist[i][0])
	}
	assert.Contains(t, hist[0][0], "1h")

	assert.InDelta(t, k.ResolvedWithinCloseTarget, parsePercent(t, cellsByRow(tables[id+"-close-target"])["Resolved within the close target"][0]), 0.0005)
	assert.InDelta(t, k.SurveyResponseRate, parsePercent(t, cellsByRow(tables[id+"-response"])["Survey response rate"][0]), 0.0005)
	assert.InDelta(t, k.ReopenRate, parsePercent(t, cellsByRow(tables[id+"-reopen"])["Reopen rate"][0]), 0.0005)

	csat := cellsByRow(tables[id+"-csat"])
	for score := 1; score <= 5; score++ {
		s := strconv.Itoa(score)
		assert.Equal(t, k.CSATDistribution[s], atoi(t, csat[s][0]), "score %s", s)
	}
	money := cellsByRow(tables[id+"-compensation"][1:])
	assert.Len(t, money, len(k.CompensationCents))
	for cur, cents := range k.CompensationCents {
		assert.InDelta(t, float64(cents), parseFloat(t, money[cur][0])*100, 0.5, "compensation in %s", cur)
	}
	categories := tables[id+"-categories"][1:]
	require.Len(t, categories, len(k.TopCategories))
	for i, c := range k.TopCategories {
		assert.Equal(t, []string{c.Category, strconv.Itoa(c.Cases)}, categories[i])
	}
}

func basicAuth(token string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("anyone:"+token))}
}

// A browser gets a Basic challenge and then sends the token as its password;
// scripts send it as a bearer token. Roles are the JSON report's.
func TestDashboardAuthentication(t *testing.T) {
	env, _ := newDashboardEnv(t)
	path := "/v1/reports/dashboard?" + dashboardPeriodQuery

	rec := env.do(request{method: "GET", path: path})
	problemOf(t, rec, http.StatusUnauthorized)
	assert.Contains(t, rec.Header().Values("WWW-Authenticate"), `Basic realm="`+dashboardRealm+`", charset="UTF-8"`)

	problemOf(t, env.do(request{method: "GET", path: path, header: basicAuth("not-a-token")}), http.StatusUnauthorized)
	for _, tok := range []string{"dev-viewer", "dev-supervisor", "dev-executive"} {
		assert.Equal(t, http.StatusOK, env.do(request{method: "GET", path: path, header: basicAuth(tok)}).Code, tok)
	}
	assert.Equal(t, http.StatusOK, env.do(request{method: "GET", path: path, token: "dev-executive"}).Code)
	for _, tok := range []string{"dev-agent", "dev-specialist", "dev-integration"} {
		problemOf(t, env.do(request{method: "GET", path: path, header: basicAuth(tok)}), http.StatusForbidden)
	}
	// Basic is the page's credential only: the JSON API still wants a bearer token.
	problemOf(t, env.do(request{method: "GET", path: "/v1/reports/kpis?" + dashboardPeriodQuery, header: basicAuth("dev-viewer")}),
		http.StatusUnauthorized)
}

// Without a period the page shows the 30 days up to the end of today; the form's
// days are inclusive; RFC 3339 instants are taken as the JSON report takes them.
func TestDashboardPeriod(t *testing.T) {
	env, records := newDashboardEnv(t)
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	for _, tc := range []struct {
		query            string
		from, to         time.Time
		formFrom, formTo string
		groupBy          string
	}{
		{"", day("2026-10-22"), day("2026-11-21"), "2026-10-22", "2026-11-20", ""},
		{"from=2026-10-01&to=2026-10-31&group_by=tier", day("2026-10-01"), day("2026-11-01"), "2026-10-01", "2026-10-31", "tier"},
		{"from=2026-10-01&to=&group_by=", day("2026-10-01"), day("2026-11-21"), "2026-10-01", "2026-11-20", ""},
		{dashboardPeriodQuery, day("2026-10-01"), day("2026-11-01"), "2026-10-01", "2026-10-31", ""},
	} {
		records.queries = nil
		rec := env.do(request{method: "GET", token: "dev-viewer", path: "/v1/reports/dashboard?" + tc.query})
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", tc.query, rec.Body.String())
		require.Len(t, records.queries, 1)
		assert.Equal(t, tierflow.KPIQuery{From: tc.from, To: tc.to, GroupBy: tc.groupBy}, records.queries[0], tc.query)
		body := rec.Body.String()
		assert.Contains(t, body, `name="from" value="`+tc.formFrom+`"`, tc.query)
		assert.Contains(t, body, `name="to" value="`+tc.formTo+`"`, tc.query)
	}
}

// Invalid parameters answer 422 with the page: the form as given and the errors of
// the JSON report's own validation; the store is not asked.
func TestDashboardRefusesInvalidParameters(t *testing.T) {
	env, records := newDashboardEnv(t)
	for _, tc := range []struct {
		query  string
		fields []string
	}{
		{"from=2026-11-01&to=2026-10-01", []string{"to"}},
		{"from=yesterday", []string{"from"}},
		{"group_by=colour", []string{"group_by"}},
		{"colour=red", []string{"colour"}},
		{"from=2025-01-01&to=2026-10-01", []string{"to"}},
		{"from=2026-10-01&from=2026-10-02", []string{"from"}},
	} {
		records.queries = nil
		rec := env.do(request{method: "GET", token: "dev-viewer", path: "/v1/reports/dashboard?" + tc.query})
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, tc.query)
		assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
		body := rec.Body.String()
		assert.Contains(t, body, `role="alert"`, tc.query)
		for _, f := range tc.fields {
			assert.Contains(t, body, "<li>"+f+" ", "%s: the error names %s", tc.query, f)
		}
		assert.Contains(t, body, `<form method="get"`, "the form stays, to correct the period")
		assert.Empty(t, records.queries, "%s: the store was not asked", tc.query)
	}
}

// A store failure is the API's usual problem, never its internal text.
func TestDashboardStoreDown(t *testing.T) {
	env := newTestEnv(t)
	env.records.err = &tierflow.Error{Code: tierflow.CodeInternal, Message: "kpis failed", Err: errors.New("pq: connection refused at 10.0.0.7")}
	p := problemOf(t, env.do(request{method: "GET", token: "dev-viewer", path: "/v1/reports/dashboard"}), http.StatusInternalServerError)
	assert.NotContains(t, p.Detail, "10.0.0.7")
	env.records.err = tierflow.Errorf(tierflow.CodeUnavailable, "database unavailable")
	problemOf(t, env.do(request{method: "GET", token: "dev-viewer", path: "/v1/reports/dashboard"}), http.StatusServiceUnavailable)
}
