package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/simulate"
	"github.com/tierflow/tierflow/workflows"
)

// A bulk policy migration (POST /v1/policies/migrate, supervisor and executive)
// moves the cases in flight that a Temporal visibility query matches to a loaded
// policy. Its dry run answers the matched cases and the simulator's verdict over
// their recorded event logs. The real run resolves the query (at most
// MaxMigrationCases cases), authorizes each case's migrate_policy decision and
// starts a PolicyMigration workflow (workflows/policy_migration.go), which sends
// the decisions, workflows.MigrationFanOut at a time; it answers 202 with the
// migration's progress, which GET /v1/policies/migrations/{id} reads until it is
// completed (then it is the summary). Nothing is migrated without this explicit
// call and its reason; each case records the migration in its own audit log
// (policy_migrated, with the migration's decision_id), which is the durable
// trace. The migration id is the request's or derived from it, so posting the
// same request again attaches to the same migration (its workflow id), and no
// case applies the same migration twice (the decision id derives from it and
// the target). A migration id names one target: posting it to another is a
// conflict, whatever became of the first (running, completed, failed,
// terminated). Each case's authorization binds its decision to the migration's
// workflow and expires activities.MigrationAuthorizationTTL after submit.

// MaxMigrationCases bounds one bulk migration: a query matching more is refused.
const MaxMigrationCases = workflows.MaxMigrationCases

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

// migrateAnswer is the dry run's verdict.
type migrateAnswer struct {
	MigrationID string        `json:"migration_id"`
	Policy      string        `json:"policy"`
	DryRun      bool          `json:"dry_run"`
	Matched     []matchedCase `json:"matched"`
	// Verdict: what the target policy would have done to the matched cases,
	// over their recorded event logs (package simulate).
	Verdict *simulate.Report `json:"verdict,omitempty"`
}

// migrationStarted is the real run's answer: the migration's progress, and the
// cases the query matched.
type migrationStarted struct {
	migrationProgress
	DryRun  bool          `json:"dry_run"`
	Matched []matchedCase `json:"matched"`
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
	if s.CaseFinder == nil || (!req.DryRun && s.Migrations == nil) {
		s.writeError(w, r, errNoMigrations)
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
	id := migrationID(req, actor, target)
	matched := make([]matchedCase, len(views))
	for i, v := range views {
		matched[i] = matchedCase{CaseID: v.ID, Policy: v.Policy.Name + "@" + v.Policy.Version}
	}
	if req.DryRun {
		report, err := s.migrationVerdict(r.Context(), views, target)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, migrateAnswer{MigrationID: id, Policy: target.Ref(), DryRun: true, Matched: matched,
			Verdict: &report})
		return
	}
	s.startMigration(w, r, workflows.PolicyMigrationInput{MigrationID: id, Policy: target, Reason: req.Reason,
		Actor: actor}, matched)
}

// startMigration authorizes each matched case's decision, starts the
// migration's workflow (or finds the one with its id) and answers its progress:
// 202 while it runs, 200 once completed. An id already used by a migration to
// another policy is a conflict: the target is the one the workflow recorded at
// its start, never the progress query's (which a workflow may not answer yet).
func (s *server) startMigration(w http.ResponseWriter, r *http.Request, in workflows.PolicyMigrationInput, matched []matchedCase) {
	in.AuthorizedUntil = s.Now().UTC().Add(activities.MigrationAuthorizationTTL)
	decision := in.Decision()
	in.Cases = make([]workflows.MigrationCase, len(matched))
	for i, m := range matched {
		auth, err := activities.AuthorizeMigration(s.SurveyKeys, in.MigrationGrant(m.CaseID), decision)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		in.Cases[i] = workflows.MigrationCase{CaseID: m.CaseID, Policy: m.Policy, Authorization: auth}
	}
	target, err := s.Migrations.StartMigration(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if target != in.Policy.Ref() {
		if target == "" {
			target = "a policy it does not record"
		}
		s.writeError(w, r, tierflow.Errorf(tierflow.CodeConflict,
			"migration %s moves cases to %s; choose another migration_id", in.MigrationID, target))
		return
	}
	qctx, cancel := context.WithTimeout(r.Context(), startQueryWait)
	defer cancel()
	progress, err := s.Migrations.MigrationProgress(qctx, in.MigrationID)
	if err != nil || progress.Policy != in.Policy.Ref() {
		progress = workflows.NewMigrationProgress(in) // not answering yet: it stands at its start
	}
	s.Logger.Info("policy migration", "migration_id", in.MigrationID, "policy", progress.Policy, "actor", in.Actor.ID,
		"matched", len(matched), "status", progress.Status, "progress", progress.Line())
	status := http.StatusAccepted
	if progress.Status == workflows.MigrationCompleted {
		status = http.StatusOK
	}
	writeJSON(w, status, migrationStarted{migrationProgress: newMigrationProgress(progress), Matched: matched})
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
