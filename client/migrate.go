package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

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

// MigrationResult is the answer: the matched cases, and the dry run's verdict
// or the real run's migration, which runs on the server (Status "running";
// follow it with MigrationProgress) unless it was already completed.
type MigrationResult struct {
	// MigrationProgress names the migration and its policy; for a real run, it
	// also holds the migration's status, progress URL and progress.
	MigrationProgress
	DryRun  bool             `json:"dry_run"`
	Matched []MigrationMatch `json:"matched"`
	Verdict *simulate.Report `json:"verdict,omitempty"`
}

// MigrationMatch is a matched case and the policy it ran under.
type MigrationMatch struct {
	CaseID string `json:"case_id"`
	Policy string `json:"policy"`
}

// Migration statuses.
const (
	MigrationRunning   = "running"
	MigrationCompleted = "completed"
	MigrationFailed    = "failed" // ended otherwise (terminated by an operator)
)

// MigrationProgress is where a migration stands; once completed, what became
// of each matched case.
type MigrationProgress struct {
	MigrationID string `json:"migration_id"`
	Policy      string `json:"policy"`
	Status      string `json:"status,omitempty"`
	ProgressURL string `json:"progress_url,omitempty"`
	// Total = Done + Pending.
	Total     int                `json:"total"`
	Done      int                `json:"done"`
	Pending   int                `json:"pending"`
	Migrated  []string           `json:"migrated"`
	Unchanged []string           `json:"unchanged"` // already under the target policy
	Refused   []MigrationRefusal `json:"refused"`
}

// Line is the progress in one line: "12/37 done (10 migrated, 1 unchanged, 1 refused)".
func (p MigrationProgress) Line() string {
	return fmt.Sprintf("%d/%d done (%d migrated, %d unchanged, %d refused)", p.Done, p.Total, len(p.Migrated),
		len(p.Unchanged), len(p.Refused))
}

// MigrationRefusal is a case that refused the migration, with the problem's
// status and detail (503: the case could not be reached).
type MigrationRefusal struct {
	CaseID string `json:"case_id"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// MigratePolicies previews (DryRun) or starts a bulk policy migration
// (supervisor or executive token). A real run answers at once with the
// migration's progress; the server sends the decisions. It is retried like any
// idempotent call: the same request is the same migration, and each case is
// migrated once per migration.
func (c *Client) MigratePolicies(ctx context.Context, m PolicyMigration) (res MigrationResult, err error) {
	body, err := json.Marshal(m)
	if err != nil {
		return res, fmt.Errorf("migrate policies: encode request: %w", err)
	}
	_, err = c.do(ctx, call{op: "migrate policies", method: http.MethodPost, path: "/policies/migrate", body: body,
		idempotent: true}, &res)
	return res, err
}

// MigrationProgress reads where migration id stands (supervisor or executive
// token); ErrNotFound (errors.Is) when there is no such migration.
func (c *Client) MigrationProgress(ctx context.Context, id string) (p MigrationProgress, err error) {
	if id == "" {
		return p, errors.New("migration progress: empty migration id")
	}
	_, err = c.do(ctx, call{op: "migration progress", method: http.MethodGet,
		path: "/policies/migrations/" + url.PathEscape(id), idempotent: true}, &p)
	return p, err
}
