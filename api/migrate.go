package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/simulate"
)

// A bulk policy migration (POST /v1/policies/migrate, supervisor and executive)
// moves the cases in flight that a Temporal visibility query matches to a loaded
// policy. Its dry run answers the matched cases and the simulator's verdict over
// their recorded event logs; the real run sends each case the migrate_policy
// decision, MigrationFanOut at a time, and answers a summary. Nothing is
// migrated without this explicit call and its reason; each case records the
// migration in its own audit log (policy_migrated, with the migration's
// decision_id), which is the durable trace. The run is synchronous and bounded
// (MaxMigrationCases): a client that lost the answer posts the same request
// again, which migrates nothing twice (the decision_id is derived from the
// migration id, itself derived from the request unless given).

// MaxMigrationCases bounds one bulk migration: a query matching more is refused.
const MaxMigrationCases = 500

// MigrationFanOut is how many cases receive their decision at once.
const MigrationFanOut = 8

// migrateRequest is POST /v1/policies/migrate's body.
type migrateRequest struct {
	// To names a loaded policy: "name" or "name@version".
	To string `json:"to"`
	// Query is a Temporal visibility query over the case workflows
	// ("CaseTier >= 2 AND CasePriority = 'high'"); only running cases match.
	Query  string `json:"query"`
	DryRun bool   `json:"dry_run"`
	Reason string `json:"reason"`
	// MigrationID names the migration (decision ids derive from it); derived
	// from the request when empty.
	MigrationID string `json:"migration_id,omitempty"`
}

var migrationIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// validate checks the request's shape and resolves its target policy.
func (s *server) validateMigration(req migrateRequest) (tierflow.Policy, error) {
	var v tierflow.Validation
	name, err := tierflow.ParsePolicyName(req.To)
	v.Check(err == nil, "to", "must name a loaded policy as name or name@version, got %q", req.To)
	v.Check(strings.TrimSpace(req.Query) != "" && len(req.Query) <= 2000, "query",
		"is required: a Temporal visibility query of at most 2000 characters (e.g. \"CaseTier >= 2\")")
	v.Check(strings.TrimSpace(req.Reason) != "" && len(req.Reason) <= tierflow.MaxTextLen, "reason",
		"is required (at most %d characters): it goes on every migrated case's record", tierflow.MaxTextLen)
	v.Check(req.MigrationID == "" || migrationIDPattern.MatchString(req.MigrationID), "migration_id",
		"must be 1-64 characters of A-Z a-z 0-9 . _ -")
	if err := v.Err("invalid migration"); err != nil {
		return tierflow.Policy{}, err
	}
	p, ok := s.Policies.Policy(name.Name)
	if !ok || !name.Matches(p) {
		return tierflow.Policy{}, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "unknown policy",
			Fields: []tierflow.FieldError{{Field: "to", Message: "no loaded policy has this name and version"}}}
	}
	return p, nil
}

// migrationID is the request's own, or one derived from who asks what: posting
// the same request again is the same migration.
func migrationID(req migrateRequest, actor tierflow.Principal, target tierflow.Policy) string {
	if req.MigrationID != "" {
		return req.MigrationID
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{actor.ID, target.Ref(), req.Query, req.Reason}, "\x00")))
	return "m" + hex.EncodeToString(sum[:8])
}

// matchedCase is one case the query matched, with the policy it runs under.
type matchedCase struct {
	CaseID string `json:"case_id"`
	Policy string `json:"policy"`
}

// migrateAnswer is the dry run's verdict or the real run's summary.
type migrateAnswer struct {
	MigrationID string        `json:"migration_id"`
	Policy      string        `json:"policy"`
	DryRun      bool          `json:"dry_run"`
	Matched     []matchedCase `json:"matched"`
	// Verdict (dry run): what the target policy would have done to the matched
	// cases, over their recorded event logs (package simulate).
	Verdict *simulate.Report `json:"verdict,omitempty"`
	// Summary (real run).
	Summary *migrationSummary `json:"summary,omitempty"`
}

// migrationSummary says what became of each matched case.
type migrationSummary struct {
	Migrated  []string           `json:"migrated"`
	Unchanged []string           `json:"unchanged"` // already under the target policy
	Refused   []migrationRefusal `json:"refused"`
}

// migrationRefusal is a case that refused its decision, with the problem the
// decide endpoint would have answered.
type migrationRefusal struct {
	CaseID string `json:"case_id"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// migratePolicies: POST /v1/policies/migrate (supervisor, executive).
func (s *server) migratePolicies(w http.ResponseWriter, r *http.Request) {
	var req migrateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	target, err := s.validateMigration(req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.CaseFinder == nil {
		s.writeError(w, r, tierflow.Errorf(tierflow.CodeUnavailable, "bulk migration is not available: no case finder"))
		return
	}
	actor := principalFrom(r.Context())
	ids, err := s.CaseFinder.FindCases(r.Context(), req.Query, MaxMigrationCases+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(ids) > MaxMigrationCases {
		s.writeError(w, r, tierflow.Errorf(tierflow.CodeInvalid,
			"the query matches more than %d cases in flight; narrow it", MaxMigrationCases))
		return
	}
	views, err := s.readCases(r.Context(), ids)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	answer := migrateAnswer{MigrationID: migrationID(req, actor, target), Policy: target.Ref(), DryRun: req.DryRun,
		Matched: make([]matchedCase, len(views))}
	for i, v := range views {
		answer.Matched[i] = matchedCase{CaseID: v.ID, Policy: v.Policy.Name + "@" + v.Policy.Version}
	}
	if req.DryRun {
		report, err := s.migrationVerdict(r.Context(), views, target)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		answer.Verdict = &report
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), MigrationBudget)
		summary := s.migrateCases(ctx, views, target, req.Reason, answer.MigrationID, actor)
		cancel()
		answer.Summary = &summary
		s.Logger.Info("policy migration", "migration_id", answer.MigrationID, "policy", target.Ref(), "actor", actor.ID,
			"matched", len(views), "migrated", len(summary.Migrated), "unchanged", len(summary.Unchanged),
			"refused", len(summary.Refused))
	}
	writeJSON(w, http.StatusOK, answer)
}

// readCases reads the matched cases from the record, in the order given; a case
// the record does not hold yet is left out (its opening is still being recorded).
func (s *server) readCases(ctx context.Context, ids []string) ([]tierflow.CaseView, error) {
	views := make([]tierflow.CaseView, 0, len(ids))
	for _, id := range ids {
		v, err := s.Records.GetCase(ctx, id)
		if tierflow.ErrorCode(err) == tierflow.CodeNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

// migrationVerdict simulates the target policy over the matched cases' event
// logs up to now.
func (s *server) migrationVerdict(ctx context.Context, views []tierflow.CaseView, target tierflow.Policy) (simulate.Report, error) {
	logs := make([]simulate.CaseLog, 0, len(views))
	for _, v := range views {
		events, err := s.Records.CaseEvents(ctx, v.ID)
		if err != nil {
			return simulate.Report{}, err
		}
		logs = append(logs, simulate.CaseLog{CaseID: v.ID, Source: v.Source, ExternalID: v.ExternalID,
			Priority: v.Priority, OpenedAt: v.OpenedAt, Events: events})
	}
	return simulate.Simulate(logs, target, simulate.Window{AsOf: s.Now().UTC()}), nil
}
