package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// fakeAPI answers like the v1 API for the CLI's tests: it keeps opened cases, records
// the bodies of decisions, customer events and simulations, serves seeded cases,
// events, list pages, a KPI report and a simulation, and errors as problem+json.
type fakeAPI struct {
	*httptest.Server

	mu             sync.Mutex
	opened         map[string]tierflow.OpenCaseRequest
	views          map[string]tierflow.CaseView
	events         map[string][]tierflow.CaseEvent
	decisions      []map[string]any
	customerEvents []map[string]any
	listQueries    []string
	pages          map[string]tierflow.CasePage // by cursor
	kpis           tierflow.KPIReport
	kpiQuery       string
	simulation     client.Simulation      // the answer of POST /v1/policies/simulate
	simulateErrors []tierflow.FieldError  // when set, the simulation answers 422 with them
	simulations    []map[string]any       // the simulation bodies received
	migration      client.MigrationResult // the answer of POST /v1/policies/migrate
	migrations     []map[string]any       // the migration bodies received
	// progress answers GET /v1/policies/migrations/{id}, one per call, the
	// last one again once exhausted; progressReads are the ids asked.
	progress      []client.MigrationProgress
	progressReads []string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{opened: map[string]tierflow.OpenCaseRequest{}, views: map[string]tierflow.CaseView{},
		events: map[string][]tierflow.CaseEvent{}, pages: map[string]tierflow.CasePage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/cases", f.openCase)
	mux.HandleFunc("GET /v1/cases", f.listCases)
	mux.HandleFunc("GET /v1/cases/{id}", f.getCase)
	mux.HandleFunc("GET /v1/cases/{id}/events", f.caseEvents)
	mux.HandleFunc("POST /v1/cases/{id}/decisions", f.decide)
	mux.HandleFunc("POST /v1/cases/{id}/customer-events", f.customerEvent)
	mux.HandleFunc("GET /v1/reports/kpis", f.report)
	mux.HandleFunc("POST /v1/policies/simulate", f.simulate)
	mux.HandleFunc("POST /v1/policies/migrate", f.migrate)
	mux.HandleFunc("GET /v1/policies/migrations/{id}", f.migrationProgress)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-test")
		switch r.Header.Get("Authorization") {
		case "Bearer dev-integration", "Bearer dev-agent", "Bearer dev-supervisor":
			f.mu.Lock()
			defer f.mu.Unlock()
			mux.ServeHTTP(w, r)
		default:
			problem(w, http.StatusUnauthorized, "missing or unknown bearer token", nil)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) openCase(w http.ResponseWriter, r *http.Request) {
	var req tierflow.OpenCaseRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		problem(w, http.StatusBadRequest, "malformed JSON", nil)
		return
	}
	var v tierflow.Validation
	v.Check(req.Priority.Valid(), "priority", "must be one of urgent, high, normal, low")
	v.Check(req.Trigger.Valid(), "trigger", "must be a known trigger")
	v.Check(strings.Contains(req.Customer.Email, "@"), "customer.email", "must be an email address")
	if err := v.Err("the case is invalid"); err != nil {
		problem(w, http.StatusUnprocessableEntity, "the case is invalid", err.(*tierflow.Error).Fields)
		return
	}
	id := tierflow.CaseID(req.Source, req.ExternalID)
	if old, ok := f.opened[id]; ok {
		if !reflect.DeepEqual(old, req) {
			problem(w, http.StatusConflict, "case "+id+" exists with a different body", nil)
			return
		}
		writeJSON(w, http.StatusOK, f.views[id])
		return
	}
	tier := tierflow.TierFrontline
	if req.StartTier != nil {
		tier = *req.StartTier
	}
	view := tierflow.CaseView{ID: id, Source: req.Source, ExternalID: req.ExternalID, Status: tierflow.StatusOpen,
		Tier: tier, Department: req.Department, Priority: req.Priority, Subject: req.Subject, OpenedAt: req.OpenedAt}
	f.opened[id], f.views[id] = req, view
	writeJSON(w, http.StatusCreated, view)
}

func (f *fakeAPI) getCase(w http.ResponseWriter, r *http.Request) {
	view, ok := f.views[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "no such case", nil)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

func (f *fakeAPI) caseEvents(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"events": f.events[r.PathValue("id")]})
}

func (f *fakeAPI) listCases(w http.ResponseWriter, r *http.Request) {
	f.listQueries = append(f.listQueries, r.URL.RawQuery)
	writeJSON(w, http.StatusOK, f.pages[r.URL.Query().Get("cursor")])
}

func (f *fakeAPI) decide(w http.ResponseWriter, r *http.Request) {
	body := decodeMap(r.Body)
	view, ok := f.views[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "no such case", nil)
		return
	}
	f.decisions = append(f.decisions, body)
	if body["action"] == "acknowledge" {
		view.Status = tierflow.StatusInProgress
		owner := "agent-1"
		view.Assignee = &owner
	}
	writeJSON(w, http.StatusOK, view)
}

func (f *fakeAPI) customerEvent(w http.ResponseWriter, r *http.Request) {
	f.customerEvents = append(f.customerEvents, decodeMap(r.Body))
	w.WriteHeader(http.StatusAccepted)
}

func (f *fakeAPI) report(w http.ResponseWriter, r *http.Request) {
	f.kpiQuery = r.URL.RawQuery
	writeJSON(w, http.StatusOK, f.kpis)
}

// simulate answers like the API: supervisors only, a policy file the loader
// refuses as 422 with its field errors.
func (f *fakeAPI) simulate(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer dev-supervisor" {
		problem(w, http.StatusForbidden, "requires role supervisor or executive", nil)
		return
	}
	f.simulations = append(f.simulations, decodeMap(r.Body))
	if len(f.simulateErrors) > 0 {
		problem(w, http.StatusUnprocessableEntity, "invalid policy", f.simulateErrors)
		return
	}
	writeJSON(w, http.StatusOK, f.simulation)
}

// migrate answers like the API: supervisors only.
func (f *fakeAPI) migrate(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer dev-supervisor" {
		problem(w, http.StatusForbidden, "requires role supervisor or executive", nil)
		return
	}
	f.migrations = append(f.migrations, decodeMap(r.Body))
	status := http.StatusOK
	if f.migration.Status == client.MigrationRunning {
		status = http.StatusAccepted
	}
	writeJSON(w, status, f.migration)
}

// migrationProgress answers the next of f.progress for the migration it names.
func (f *fakeAPI) migrationProgress(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer dev-supervisor" {
		problem(w, http.StatusForbidden, "requires role supervisor or executive", nil)
		return
	}
	id := r.PathValue("id")
	f.progressReads = append(f.progressReads, id)
	if len(f.progress) == 0 || f.progress[0].MigrationID != id {
		problem(w, http.StatusNotFound, "no migration "+id, nil)
		return
	}
	p := f.progress[0]
	if len(f.progress) > 1 {
		f.progress = f.progress[1:]
	}
	writeJSON(w, http.StatusOK, p)
}

func decodeMap(r io.Reader) map[string]any {
	var m map[string]any
	_ = json.NewDecoder(r).Decode(&m)
	return m
}

func problem(w http.ResponseWriter, status int, detail string, fields []tierflow.FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "https://tierflow.dev/problems/" + strconv.Itoa(status),
		"title": http.StatusText(status), "status": status, "detail": detail, "errors": fields})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
