package e2e

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// The KPI dashboard over the real stack, in headless Chromium: a few cases in
// varied states (left open under the fast policy's clocks, resolved at tier 1,
// escalated to tier 2), the page opened with the browser's credential (the API
// token as an HTTP Basic password), its data tables read from the rendered page
// and compared with GET /v1/reports/kpis for the same query, and a full-page
// screenshot kept as testartifacts/e2e-dashboard.png.
func TestDashboardInBrowser(t *testing.T) {
	chrome := findChromium(t)
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a := newAPI(s.APIURL)
	begin := time.Now().UTC()

	open := func(ext, category string) string {
		req := tierflow.OpenCaseRequest{Source: "zendesk", ExternalID: ext,
			Customer: tierflow.Customer{ID: "C-" + ext, Name: "Dashboard Customer", Email: ext + "@example.com", Locale: "en"},
			Subject:  "Dashboard case " + ext, Description: "A case for the dashboard test.", Category: category,
			Priority: tierflow.PriorityNormal, Channel: "email", OpenedAt: begin.Add(-time.Minute).Truncate(time.Second),
			Trigger: tierflow.TriggerUnresolved, FrontlineSummary: "Tried the usual.", Policy: "fast"}
		return a.do(ctx, t, tokIntegration, http.MethodPost, "/v1/cases", req).expect(t, http.StatusCreated, "open").caseView(t).ID
	}
	stamp := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	open("DASH-OPEN-"+stamp, "delivery") // left to the fast policy's clocks
	resolved := open("DASH-RES-"+stamp, "login")
	a.mustDecide(ctx, t, tokAgent, resolved, map[string]any{"action": "acknowledge", "decision_id": "ack"})
	a.mustDecide(ctx, t, tokAgent, resolved, map[string]any{"action": "resolve", "decision_id": "res",
		"resolution": "Reset the password", "explanation": "The account was locked."})
	escalated := open("DASH-ESC-"+stamp, "billing")
	a.mustDecide(ctx, t, tokAgent, escalated, map[string]any{"action": "acknowledge", "decision_id": "ack"})
	a.mustDecide(ctx, t, tokAgent, escalated, map[string]any{"action": "escalate", "mode": "functional", "department": "billing",
		"decision_id": "esc", "reason": "needs a refund", "summary": "Charged twice; billing must refund."})

	query := "from=" + begin.Add(-time.Hour).Format(time.RFC3339) + "&to=" + begin.Add(time.Hour).Format(time.RFC3339)
	kpis := func() tierflow.KPIReport {
		var r tierflow.KPIReport
		a.do(ctx, t, tokSupervisor, http.MethodGet, "/v1/reports/kpis?"+strings.ReplaceAll(query, "+", "%2B"), nil).
			expect(t, http.StatusOK, "KPIs").decode(t, &r)
		return r
	}
	poll(ctx, t, "the three cases recorded, one resolved, one escalated", 500*time.Millisecond, func() (bool, string) {
		k := kpis().Total
		return k.CasesOpened == 3 && k.ResolvedCases >= 1 && k.EscalatedCases >= 1,
			"opened " + strconv.Itoa(k.CasesOpened) + ", resolved " + strconv.Itoa(k.ResolvedCases)
	})

	// The browser's credential: the API token as the password of HTTP Basic.
	browser := newBrowser(ctx, t, chrome)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("manager:"+tokViewer))
	require.NoError(t, chromedp.Run(browser, network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Authorization": basic})))
	pageURL := s.APIURL + "/v1/reports/dashboard?" + url.PathEscape(query)

	// The fast policy's clocks keep changing the figures: compare a page with the
	// report read just before and just after it, retrying until they agree.
	var tables map[string][][]string
	var report tierflow.KPIReport
	poll(ctx, t, "the page's tables equal the JSON report", time.Second, func() (bool, string) {
		before := kpis()
		tables = nil
		err := chromedp.Run(browser, chromedp.Navigate(pageURL),
			chromedp.WaitVisible(`table[data-chart="total-figures"]`, chromedp.ByQuery),
			chromedp.Evaluate(`(() => {
				const out = {};
				for (const t of document.querySelectorAll("table[data-chart]")) {
					out[t.dataset.chart] = [...t.querySelectorAll("tr")].map(r => [...r.querySelectorAll("th,td")].map(c => c.textContent.trim()));
				}
				return out;
			})()`, &tables))
		if err != nil {
			return false, err.Error()
		}
		report = kpis()
		if !assert.ObjectsAreEqual(before.Total, report.Total) {
			return false, "the figures changed while the page loaded"
		}
		return true, ""
	})
	k := report.Total
	figures := rowsByHead(tables["total-figures"])
	assert.Equal(t, strconv.Itoa(k.CasesOpened), figures["Cases opened"][0])
	assert.Equal(t, strconv.Itoa(k.EscalatedCases), figures["Escalated cases"][0])
	assert.Equal(t, strconv.Itoa(k.ResolvedCases), figures["Resolved cases"][0])
	funnel := rowsByHead(tables["total-funnel"])
	for tier, row := range []string{"Tier 1 frontline", "Tier 2 specialist", "Tier 3 supervisor", "Tier 4 executive"} {
		key := strconv.Itoa(tier + 1)
		assert.Equal(t, []string{strconv.Itoa(k.CasesByStartTier[key]), strconv.Itoa(k.CasesByHighestTier[key])}, funnel[row], row)
	}
	hist := tables["total-resolution"][1:]
	require.Len(t, hist, len(k.TimeToResolutionHistogram))
	for i, b := range k.TimeToResolutionHistogram {
		assert.Equal(t, strconv.Itoa(b.Cases), hist[i][1], "resolution bucket %s", hist[i][0])
	}
	csat := rowsByHead(tables["total-csat"])
	for score := 1; score <= 5; score++ {
		assert.Equal(t, strconv.Itoa(k.CSATDistribution[strconv.Itoa(score)]), csat[strconv.Itoa(score)][0])
	}
	assert.Equal(t, 3, k.CasesOpened)
	assert.GreaterOrEqual(t, k.CasesByHighestTier["2"]+k.CasesByHighestTier["3"]+k.CasesByHighestTier["4"], 1)

	var charts int
	require.NoError(t, chromedp.Run(browser, chromedp.Evaluate(`document.querySelectorAll("svg.chart[role=img] title").length`, &charts)))
	assert.GreaterOrEqual(t, charts, 9, "every chart has its title")
	var scripts int
	require.NoError(t, chromedp.Run(browser, chromedp.Evaluate(`document.scripts.length`, &scripts)))
	assert.Zero(t, scripts, "no JavaScript on the page")

	dir := filepath.Join(s.Root, "testartifacts")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var png []byte
	require.NoError(t, chromedp.Run(browser, chromedp.FullScreenshot(&png, 100)))
	require.NotEmpty(t, png)
	path := filepath.Join(dir, "e2e-dashboard.png") // overwritten by every run
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("dashboard screenshot: %s", path)
}

// rowsByHead maps each table row's first cell to its other cells.
func rowsByHead(rows [][]string) map[string][]string {
	out := map[string][]string{}
	for _, r := range rows {
		if len(r) > 0 {
			out[r[0]] = r[1:]
		}
	}
	return out
}
