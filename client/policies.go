package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tierflow/tierflow/simulate"
)

// SimulationRequest names the candidate policy of a simulation, exactly one of
// Policy (a loaded policy's name) or PolicyYAML (a policy file's text), and the
// window of cases: those opened in [From, To), of Source when it is set.
type SimulationRequest struct {
	Policy     string    `json:"policy,omitempty"`
	PolicyYAML string    `json:"policy_yaml,omitempty"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Source     string    `json:"source,omitempty"`
}

// Simulation is the answer of a simulation: the report (actual and simulated
// counters side by side, the cases whose fate would change) and, for a policy
// file named like a loaded policy, the plan of the settings it would change.
type Simulation struct {
	simulate.Report
	Plan []simulate.PlanChange `json:"plan,omitempty"`
}

// SimulatePolicy replays the recorded history of the window's cases against a
// candidate policy (POST /v1/policies/simulate, supervisor or executive). It reads
// and changes nothing, so it is retried like a read. A policy file the loader
// refuses is IsInvalid, its field errors in FieldErrors.
func (c *Client) SimulatePolicy(ctx context.Context, req SimulationRequest) (Simulation, error) {
	var answer Simulation
	if (req.Policy == "") == (req.PolicyYAML == "") {
		return answer, errors.New("simulate policy: give exactly one of Policy or PolicyYAML")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return answer, fmt.Errorf("simulate policy: encode request: %w", err)
	}
	_, err = c.do(ctx, call{op: "simulate policy", method: http.MethodPost, path: "/policies/simulate", body: body, idempotent: true}, &answer)
	return answer, err
}
