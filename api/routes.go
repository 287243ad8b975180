package main

import (
	"net/http"

	"github.com/tierflow/tierflow"
)

// routes is the one route table of the API. Who may call what follows api.md.
func (s *server) routes() http.Handler {
	const (
		integration = tierflow.RoleIntegration
		supervisor  = tierflow.RoleSupervisor
		executive   = tierflow.RoleExecutive
		viewer      = tierflow.RoleViewer
	)
	mux := http.NewServeMux()

	mux.HandleFunc("POST /v1/cases", s.authorize(s.openCase, integration))
	mux.HandleFunc("GET /v1/cases", s.authorize(s.listCases, anyRole...))
	mux.HandleFunc("GET /v1/cases/{id}", s.authorize(s.getCase, anyRole...))
	mux.HandleFunc("POST /v1/cases/{id}/decisions", s.authorize(s.decide, decidingRoles...))
	mux.HandleFunc("POST /v1/cases/{id}/customer-events", s.authorize(s.customerEvent, integration))
	mux.HandleFunc("GET /v1/cases/{id}/events", s.authorize(s.caseEvents, anyRole...))
	mux.HandleFunc("POST /v1/policies/simulate", s.authorize(s.simulatePolicy, supervisor, executive))
	mux.HandleFunc("POST /v1/policies/migrate", s.authorize(s.migratePolicies, supervisor, executive))
	mux.HandleFunc("GET /v1/policies/migrations/{id}", s.authorize(s.getMigration, supervisor, executive))
	mux.HandleFunc("GET /v1/reports/kpis", s.authorize(s.kpis, supervisor, executive, viewer))
	// A page for browsers: the token may also come as an HTTP Basic password (dashboard.go).
	mux.HandleFunc("GET /v1/reports/dashboard", s.authorizePage(s.dashboard, supervisor, executive, viewer))

	// Signed by the CRM: the signature is the credential (connectors.go).
	mux.HandleFunc("POST /v1/connectors/zendesk", s.zendeskWebhook)
	mux.HandleFunc("POST /v1/connectors/generic/{source}", s.genericWebhook)

	if s.Webhooks != nil {
		s.webhookRoutes(mux)
	}

	// Public: the signed token is the credential.
	mux.HandleFunc("GET /v1/surveys/{token}", s.surveyPage)
	mux.HandleFunc("POST /v1/surveys/{token}", s.answerSurvey)
	if s.ApprovalLinks != nil {
		// The approval emails' signed, single-use links (approvals.go).
		mux.HandleFunc("GET /v1/approvals/{token}", s.approvalPage)
		mux.HandleFunc("POST /v1/approvals/{token}", s.decideApprovalLink)
	}

	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /openapi.yaml", serveOpenAPI)

	if s.Codec != nil {
		// Temporal's remote codec protocol for operators, and their browser sign-in (codec.go).
		codecHTTP := s.codecHTTP()
		mux.HandleFunc("POST /codec/encode", codecHTTP.Encode)
		mux.HandleFunc("POST /codec/decode", codecHTTP.Decode)
		mux.HandleFunc("OPTIONS /codec/encode", codecHTTP.Preflight)
		mux.HandleFunc("OPTIONS /codec/decode", codecHTTP.Preflight)
		mux.HandleFunc("GET /codec/login", s.codecLoginForm)
		mux.HandleFunc("POST /codec/login", s.codecLogin)
		mux.HandleFunc("POST /codec/logout", s.codecLogout)
	}
	if s.Mailbox != nil {
		mux.Handle("/dev/mailbox/", s.authenticateMailbox(http.StripPrefix("/dev/mailbox", s.Mailbox)))
	}
	return s.instrument(problemRouting(mux))
}

// metricsHandler serves GET /metrics; main mounts it on its own listener
// (TIERFLOW_METRICS_ADDR) so that it is never exposed with the public API.
func (s *server) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics)
	return mux
}

// problemRouting answers the mux's own 404 and 405 with problem+json instead of text.
func problemRouting(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			probe := &probeWriter{header: http.Header{}}
			h.ServeHTTP(probe, r)
			switch probe.status {
			case http.StatusNotFound:
				writeProblem(w, problemFor(tierflow.Errorf(tierflow.CodeNotFound, "no such resource")))
				return
			case http.StatusMethodNotAllowed:
				w.Header().Set("Allow", probe.header.Get("Allow"))
				writeProblem(w, problemFor(&tierflow.Error{Code: codeMethod, Message: "method not allowed on this resource"}))
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// probeWriter records what the mux's fallback handler would answer.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
