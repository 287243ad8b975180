package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tierflow/tierflow"
)

// The KPI dashboard: GET /v1/reports/dashboard renders GET /v1/reports/kpis as an
// HTML page with charts (dashboard_view.go, dashboard_html.go). Its figures are
// the JSON report's, read by the same store query (Records.KPIs); only their
// presentation is the page's own.

// dashboardPeriod is the period the page shows when the form names none.
const dashboardPeriod = 30 * 24 * time.Hour

// dateLayout is how an <input type="date"> sends a day.
const dateLayout = "2006-01-02"

// authorizePage is authorize for pages a person opens in a browser: the API token
// is a bearer token (scripts) or the password of HTTP Basic, any user name (a
// browser, prompted by the 401's Basic challenge, then sends it on every request,
// as the dev mailbox does). Both go through the same credential check, rate
// limits included; roles are checked as authorize does.
func (s *server) authorizePage(h http.HandlerFunc, roles ...tierflow.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		token, found := mailboxToken(r)
		p, ok := s.authenticate(w, r, token, found,
			`Basic realm="`+dashboardRealm+`", charset="UTF-8"`, `Bearer realm="tierflow"`)
		if !ok {
			return
		}
		if !slices.Contains(roles, p.Role) {
			s.writeError(w, r, tierflow.Errorf(tierflow.CodeForbidden, "the %s role may not do this", p.Role))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// dashboardRealm is what a browser shows when it asks for the dashboard's
// credentials.
const dashboardRealm = "Tierflow dashboard: any user name, your API token as the password"

// dashboard: GET /v1/reports/dashboard?from=&to=&group_by= (supervisor, executive,
// viewer). from and to are days (YYYY-MM-DD, what the page's form sends; to is
// the last day shown, inclusive) or RFC 3339 instants (as the JSON report takes
// them, to exclusive); the period defaults to the 30 days up to the end of today
// (UTC). Invalid parameters answer 422 with the page and its form, the errors
// listed; other failures answer problem+json as every route does.
func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	params, form := dashboardParams(r.URL.Query(), s.Now())
	q, err := parseKPIQuery(&http.Request{URL: &url.URL{RawQuery: params.Encode()}})
	var report tierflow.KPIReport
	if err == nil {
		report, err = s.Records.KPIs(r.Context(), q)
	}
	var invalid *tierflow.Error
	switch {
	case err == nil:
		renderHTML(w, http.StatusOK, dashboardTemplate, newDashboardPage(report, form, params))
	case errors.As(err, &invalid) && invalid.Code == tierflow.CodeInvalid:
		page := dashboardPage{Form: form, Errors: invalid.Fields, GroupOptions: groupOptions(form.GroupBy)}
		renderHTML(w, http.StatusUnprocessableEntity, dashboardTemplate, page)
	default:
		s.writeError(w, r, err)
	}
}

// dashboardForm is what the page's form shows: the values as the person gave
// them, or the defaults.
type dashboardForm struct {
	From, To, GroupBy string
}

// dashboardParams turns the page's parameters into the JSON report's (RFC 3339
// from and to), so that one parser (parseKPIQuery) validates both. Values it
// cannot read, unknown parameters and repeated ones pass through for that parser
// to refuse.
func dashboardParams(in url.Values, now time.Time) (url.Values, dashboardForm) {
	out := url.Values{}
	for k, v := range in {
		out[k] = slices.Clone(v)
	}
	form := dashboardForm{From: in.Get("from"), To: in.Get("to"), GroupBy: in.Get("group_by")}
	from, fromOK := dayOrInstant(form.From, 0)
	to, toOK := dayOrInstant(form.To, 1)
	if form.To == "" {
		to, toOK = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1), true
	}
	if form.From == "" && toOK {
		from, fromOK = to.Add(-dashboardPeriod), true
	}
	if fromOK && len(in["from"]) <= 1 {
		out.Set("from", from.Format(time.RFC3339))
		form.From = from.Format(dateLayout)
	}
	if toOK && len(in["to"]) <= 1 {
		out.Set("to", to.Format(time.RFC3339))
		form.To = to.Add(-time.Nanosecond).Format(dateLayout) // the last day, inclusive
	}
	if form.GroupBy == "" && len(in["group_by"]) <= 1 {
		out.Del("group_by") // the form's "no grouping"
	}
	return out, form
}

// dayOrInstant reads a day (midnight UTC, plus addDays) or an RFC 3339 instant;
// ok is false for anything else, which parseKPIQuery then refuses.
func dayOrInstant(s string, addDays int) (t time.Time, ok bool) {
	if day, err := time.Parse(dateLayout, s); err == nil {
		return day.AddDate(0, 0, addDays), true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}
