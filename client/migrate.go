package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tierflow/tierflow/simulate"
)

// PolicyMigration asks POST /v1/policies/migrate to move the cases in flight
// that Query (a Temporal visibility query, e.g. "CaseTier >= 2") matches to the
// loaded policy To ("name" or "name@version"). DryRun answers the matched cases
// and the simulator's verdict without migrating anything.
type PolicyMigration struct {
	To     string `json:"to"`
	Query  string `json:"query"`
	DryRun bool   `json:"dry_run"`
	Reason string `json:"reason"`
	// MigrationID names the migration; the server derives one from the request
	// when empty. The same ID (or the same request) migrates each case once.
	MigrationID string `json:"migration_id,omitempty"`
}

// MigrationResult is the answer: the matched cases, and the dry run's verdict or
// the real run's summary.
type MigrationResult struct {
	MigrationID string            `json:"migration_id"`
	Policy      string            `json:"policy"`
	DryRun      bool              `json:"dry_run"`
	Matched     []MigrationMatch  `json:"matched"`
	Verdict     *simulate.Report  `json:"verdict,omitempty"`
	Summary     *MigrationSummary `json:"summary,omitempty"`
}

// MigrationMatch is a matched case and the policy it ran under.
type MigrationMatch struct {
	CaseID string `json:"case_id"`
	Policy string `json:"policy"`
}

// MigrationSummary says what became of each matched case.
type MigrationSummary struct {
	Migrated  []string           `json:"migrated"`
	Unchanged []string           `json:"unchanged"`
	Refused   []MigrationRefusal `json:"refused"`
}

// MigrationRefusal is a case that refused the migration, with the problem's
// status and detail.
type MigrationRefusal struct {
	CaseID string `json:"case_id"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// MigratePolicies runs (or, with DryRun, previews) a bulk policy migration
// (supervisor or executive token). It is retried like any idempotent call: the
// server migrates each case once per migration, and the same request is the
// same migration.
func (c *Client) MigratePolicies(ctx context.Context, m PolicyMigration) (res MigrationResult, err error) {
	body, err := json.Marshal(m)
	if err != nil {
		return res, fmt.Errorf("migrate policies: encode request: %w", err)
	}
	_, err = c.do(ctx, call{op: "migrate policies", method: http.MethodPost, path: "/policies/migrate", body: body,
		idempotent: true}, &res)
	return res, err
}
