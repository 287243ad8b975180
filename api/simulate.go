package main

import (
	"net/http"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/policyfile"
	"github.com/tierflow/tierflow/simulate"
)

// simulateRequest is POST /v1/policies/simulate's body: the candidate is a loaded
// policy by name, or a policy file's text.
type simulateRequest struct {
	Policy     string    `json:"policy"`
	PolicyYAML string    `json:"policy_yaml"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Source     string    `json:"source"`
}

// simulateAnswer is the report, plus the plan of a policy file against the
// loaded policy of its name (absent when none is loaded by that name).
type simulateAnswer struct {
	simulate.Report
	Plan []simulate.PlanChange `json:"plan,omitempty"`
}

// simulatePolicy: POST /v1/policies/simulate (supervisor, executive). It replays
// the cases opened in [from, to) against the candidate (at most
// simulate.MaxCases; a larger window is refused with 422).
func (s *server) simulatePolicy(w http.ResponseWriter, r *http.Request) {
	var req simulateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	candidate, err := s.candidatePolicy(req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	window := simulate.Window{From: req.From.UTC(), To: req.To.UTC(), Source: req.Source, AsOf: s.Now().UTC()}
	if err := window.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	report, err := simulate.Run(r.Context(), s.Simulation, candidate, window)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	answer := simulateAnswer{Report: report}
	if req.PolicyYAML != "" {
		if current, ok := s.Policies.Policy(candidate.Name); ok {
			answer.Plan = simulate.Plan(current, candidate)
		}
	}
	writeJSON(w, http.StatusOK, answer)
}

// candidatePolicy is the loaded policy named by the request, or its policy file
// parsed and validated by the policy loader (its field errors, as a bad file
// gets them at start-up).
func (s *server) candidatePolicy(req simulateRequest) (tierflow.Policy, error) {
	switch {
	case (req.Policy == "") == (req.PolicyYAML == ""):
		return tierflow.Policy{}, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "name the candidate policy",
			Fields: []tierflow.FieldError{{Field: "policy", Message: "give exactly one of policy (a loaded policy's name) or policy_yaml"}}}
	case req.Policy != "":
		p, ok := s.Policies.Policy(req.Policy)
		if !ok {
			return tierflow.Policy{}, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "unknown policy",
				Fields: []tierflow.FieldError{{Field: "policy", Message: "no loaded policy has this name"}}}
		}
		return p, nil
	}
	return policyfile.Parse([]byte(req.PolicyYAML))
}
