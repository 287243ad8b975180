package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tierflow/tierflow"
)

// fakeAPI behaves like the v1 contract (api.md) for the client's tests: bearer
// tokens, problem+json errors with X-Request-Id, idempotent opens, decisions
// deduplicated by decision_id, and injectable transient failures.
type fakeAPI struct {
	*httptest.Server

	mu        sync.Mutex
	cases     map[string]tierflow.OpenCaseRequest
	views     map[string]tierflow.CaseView
	decisions map[string][]string // case ID -> applied decision IDs
	events    map[string][]json.RawMessage
	surveys   map[string]tierflow.SurveyResponse // case ID -> the answer
	authSeen  map[string][]string                // "METHOD path" -> Authorization headers
	attempts  map[string]int                     // "METHOD path" -> requests seen
	bodies    map[string][][]byte                // "METHOD path" -> every body seen
	failures  map[string][]failure
	requestN  int
}

// failure is an answer the fake gives before handling a request normally.
type failure struct {
	status     int
	retryAfter string
	abort      bool // drop the connection without an answer
}

var tokenRoles = map[string]tierflow.Role{
	"dev-integration": tierflow.RoleIntegration,
	"dev-agent":       tierflow.RoleAgent,
	"dev-supervisor":  tierflow.RoleSupervisor,
	"dev-viewer":      tierflow.RoleViewer,
}

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{
		cases: map[string]tierflow.OpenCaseRequest{}, views: map[string]tierflow.CaseView{},
		decisions: map[string][]string{}, events: map[string][]json.RawMessage{},
		surveys: map[string]tierflow.SurveyResponse{}, authSeen: map[string][]string{},
		attempts: map[string]int{}, bodies: map[string][][]byte{}, failures: map[string][]failure{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/cases", f.openCase)
	mux.HandleFunc("GET /v1/cases/{id}", f.getCase)
	mux.HandleFunc("POST /v1/cases/{id}/decisions", f.decide)
	mux.HandleFunc("POST /v1/cases/{id}/customer-events", f.customerEvent)
	mux.HandleFunc("POST /v1/surveys/{token}", f.answerSurvey)
	f.Server = httptest.NewServer(f.middleware(mux))
	if t != nil {
		t.Cleanup(f.Close)
	}
	return f
}

// failNext makes the next requests to "METHOD path" fail as listed, in order.
func (f *fakeAPI) failNext(key string, fs ...failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[key] = append(f.failures[key], fs...)
}

func (f *fakeAPI) attemptsOf(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[key]
}

func (f *fakeAPI) bodiesOf(key string) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies[key]...)
}

func (f *fakeAPI) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requestN++
		w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(f.requestN))
		f.attempts[key]++
		f.bodies[key] = append(f.bodies[key], body)
		f.authSeen[key] = append(f.authSeen[key], r.Header.Get("Authorization"))
		var fail *failure
		if q := f.failures[key]; len(q) > 0 {
			fail, f.failures[key] = &q[0], q[1:]
		}
		f.mu.Unlock()
		if fail != nil {
			if fail.abort {
				panic(http.ErrAbortHandler)
			}
			if fail.retryAfter != "" {
				w.Header().Set("Retry-After", fail.retryAfter)
			}
			writeProblem(w, fail.status, "temporarily unavailable", nil)
			return
		}
		_, known := tokenRoles[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !known && !strings.HasPrefix(r.URL.Path, "/v1/surveys/") { // the survey token is the credential
			writeProblem(w, http.StatusUnauthorized, "missing or unknown bearer token", nil)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (f *fakeAPI) openCase(w http.ResponseWriter, r *http.Request) {
	var req tierflow.OpenCaseRequest
	if !decodeStrict(w, r, &req) {
		return
	}
	var v tierflow.Validation
	v.Check(idPattern.MatchString(req.Source), "source", "must be 1-64 characters of [A-Za-z0-9._-]")
	v.Check(idPattern.MatchString(req.ExternalID), "external_id", "must be 1-64 characters of [A-Za-z0-9._-]")
	v.Check(req.Priority.Valid(), "priority", "must be one of urgent, high, normal, low")
	v.Check(req.Trigger.Valid(), "trigger", "must be a known trigger")
	v.Check(strings.Contains(req.Customer.Email, "@"), "customer.email", "must be an email address")
	if err := v.Err("the case is invalid"); err != nil {
		var e *tierflow.Error
		_ = errors.As(err, &e)
		writeProblem(w, http.StatusUnprocessableEntity, e.Message, e.Fields)
		return
	}
	id := tierflow.CaseID(req.Source, req.ExternalID)
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.cases[id]; ok {
		if !reflect.DeepEqual(old, req) {
			writeProblem(w, http.StatusConflict, fmt.Sprintf("case %s exists with a different body", id), nil)
			return
		}
		writeJSON(w, http.StatusOK, f.views[id])
		return
	}
	view := tierflow.CaseView{ID: id, Source: req.Source, ExternalID: req.ExternalID, Status: tierflow.StatusOpen,
		Tier: tierflow.TierFrontline, Priority: req.Priority, Subject: req.Subject, OpenedAt: req.OpenedAt}
	f.cases[id], f.views[id] = req, view
	writeJSON(w, http.StatusCreated, view)
}

func (f *fakeAPI) getCase(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	view, ok := f.views[r.PathValue("id")]
	f.mu.Unlock()
	if !ok {
		writeProblem(w, http.StatusNotFound, "case "+r.PathValue("id")+" not found", nil)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

func (f *fakeAPI) decide(w http.ResponseWriter, r *http.Request) {
	var d tierflow.Decision
	if !decodeStrict(w, r, &d) {
		return
	}
	if d.Actor.ID != "" || d.Actor.Role != "" {
		writeProblem(w, http.StatusBadRequest, "actor is set from the token", nil)
		return
	}
	id := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	view, ok := f.views[id]
	if !ok {
		writeProblem(w, http.StatusNotFound, "case "+id+" not found", nil)
		return
	}
	for _, seen := range f.decisions[id] {
		if d.DecisionID != "" && seen == d.DecisionID {
			writeJSON(w, http.StatusOK, view) // applied once already
			return
		}
	}
	f.decisions[id] = append(f.decisions[id], d.DecisionID)
	if d.Action == tierflow.ActionAcknowledge {
		view.Status = tierflow.StatusInProgress
	}
	view.LastDecision = string(d.Action)
	f.views[id] = view
	writeJSON(w, http.StatusOK, view)
}

func (f *fakeAPI) customerEvent(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Kind    tierflow.CustomerEventKind `json:"kind"`
		EventID string                     `json:"event_id"`
		Message string                     `json:"message"`
	}
	if !decodeStrict(w, r, &body) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := json.Marshal(body)
	f.events[r.PathValue("id")] = append(f.events[r.PathValue("id")], raw)
	w.WriteHeader(http.StatusAccepted)
}

// answerSurvey takes "survey-<case ID>" as a valid token and one answer per case.
func (f *fakeAPI) answerSurvey(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Score    int    `json:"score"`
		Resolved *bool  `json:"resolved"`
		Comment  string `json:"comment"`
	}
	if !decodeStrict(w, r, &body) {
		return
	}
	if body.Resolved == nil || body.Score < 1 || body.Score > 5 {
		writeProblem(w, http.StatusUnprocessableEntity, "invalid survey response", nil)
		return
	}
	caseID, ok := strings.CutPrefix(r.PathValue("token"), "survey-")
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, exists := f.views[caseID]; !ok || !exists {
		writeProblem(w, http.StatusNotFound, "no such survey", nil)
		return
	}
	if _, answered := f.surveys[caseID]; answered {
		writeProblem(w, http.StatusConflict, "this survey was already answered", nil)
		return
	}
	f.surveys[caseID] = tierflow.SurveyResponse{Score: body.Score, Resolved: *body.Resolved, Comment: body.Comment}
	writeJSON(w, http.StatusOK, map[string]string{"status": "recorded"})
}

func (f *fakeAPI) authorizationsOf(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.authSeen[key]...)
}

func decodeStrict(w http.ResponseWriter, r *http.Request, into any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "send JSON", nil)
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		writeProblem(w, http.StatusBadRequest, "malformed JSON: "+err.Error(), nil)
		return false
	}
	return true
}

func writeProblem(w http.ResponseWriter, status int, detail string, fields []tierflow.FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "https://tierflow.dev/problems/" + strconv.Itoa(status), "title": http.StatusText(status),
		"status": status, "detail": detail, "errors": fields,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// testOpenRequest is a valid open request.
func testOpenRequest(externalID string) tierflow.OpenCaseRequest {
	return tierflow.OpenCaseRequest{
		Source: "zendesk", ExternalID: externalID,
		Customer: tierflow.Customer{ID: "C-991", Name: "Ada Lovelace", Email: "ada@example.com"},
		Subject:  "Refund not received", Priority: tierflow.PriorityHigh, Trigger: tierflow.TriggerUnresolved,
		OpenedAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC),
	}
}
