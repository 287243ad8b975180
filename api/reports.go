package main

import (
	"net/http"
	"time"

	"github.com/tierflow/tierflow"
)

// maxReportSpan bounds a KPI report's period.
const maxReportSpan = 400 * 24 * time.Hour

// kpis: GET /v1/reports/kpis?from=&to=&group_by= (supervisor, executive, viewer).
func (s *server) kpis(w http.ResponseWriter, r *http.Request) {
	q, err := parseKPIQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	report, err := s.Records.KPIs(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, report)
}

func parseKPIQuery(r *http.Request) (tierflow.KPIQuery, error) {
	var v tierflow.Validation
	params := r.URL.Query()
	for k, vals := range params {
		v.Check(k == "from" || k == "to" || k == "group_by", k, "is not a known parameter")
		v.Check(len(vals) == 1, k, "must be given once")
	}
	instant := func(name string) time.Time {
		s := params.Get(name)
		if s == "" {
			v.Add(name, "is required (RFC 3339, e.g. 2026-11-01T00:00:00Z)")
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, s)
		v.Check(err == nil, name, "must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z")
		return t.UTC()
	}
	q := tierflow.KPIQuery{From: instant("from"), To: instant("to"), GroupBy: params.Get("group_by")}
	if !q.From.IsZero() && !q.To.IsZero() {
		v.Check(q.To.After(q.From), "to", "must be after from")
		v.Check(q.To.Sub(q.From) <= maxReportSpan, "to", "the period may not exceed 400 days")
	}
	switch q.GroupBy {
	case "", "category", "department", "tier", "priority":
	default:
		v.Add("group_by", "must be one of category, department, tier, priority")
	}
	return q, v.Err("the report parameters are invalid")
}
