package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// A bulk policy migration (POST /v1/policies/migrate) runs as a PolicyMigration
// workflow of its own, PolicyMigrationID(migration id): the API resolves the
// visibility query at submit time and starts it with the matched cases; it
// sends each case the migrate_policy decision through the MigrateCase activity,
// MigrationFanOut at a time, keeps its progress (QueryMigrationProgress) and
// answers the summary. Every case gets the same decision, whose id
// (MigrationDecisionID: the migration id and a digest of the target) the case
// remembers, so a retried activity or the same migration started again applies
// it once per case, and a migration id reused for another target is another
// decision. The
// target is in the workflow's memo (MemoMigrationPolicy), so the API tells a
// migration id taken by another target whatever state its workflow is in.
//
// History: at most MaxMigrationCases activities (scheduled, started, completed,
// and the workflow task each completion wakes: about 3,500 events and, as every
// input carries the policy's content, a few MB at 500 cases), far below
// Temporal's limits, so the workflow never continues as new.
const (
	PolicyMigrationWorkflowName = "PolicyMigration"
	// QueryMigrationProgress answers the MigrationProgress.
	QueryMigrationProgress = "progress"
	// MaxMigrationCases bounds one migration (the API refuses a query matching more).
	MaxMigrationCases = 500
	// MigrationFanOut is how many cases receive their decision at once.
	MigrationFanOut = 8
	// MemoMigrationPolicy is the memo key holding the migration's target
	// policy ("name@version").
	MemoMigrationPolicy = "policy"
)

// Migration statuses: the workflow's own, and failed when it ended otherwise
// (terminated by an operator, for instance).
const (
	MigrationRunning   = "running"
	MigrationCompleted = "completed"
	MigrationFailed    = "failed"
)

// ma is the migration's activities, called by name through a nil pointer.
var ma *activities.MigrationActivities

// PolicyMigrationID is the workflow ID of a migration: the same migration id is
// the same workflow.
func PolicyMigrationID(migrationID string) string { return "policy-migration-" + migrationID }

// MigrationDecisionID is the decision id every case of a migration to target
// ("name@version") receives: migration:<migration id>:<target digest>, the
// digest the first 16 hex digits of the target's SHA-256 (a decision id allows
// no '@' and at most 128 characters; a version may hold anything). The target is
// part of it so that the decide Update a case receives (its id derives from the
// decision id, and Temporal answers a repeated Update ID with the first one's
// outcome) is never one a migration under the same id to another target sent.
// The policy_migrated event names the target itself.
func MigrationDecisionID(migrationID, target string) string {
	digest := sha256.Sum256([]byte(target))
	return "migration:" + migrationID + ":" + hex.EncodeToString(digest[:8])
}

// PolicyMigrationInput is a migration as the API submits it.
type PolicyMigrationInput struct {
	MigrationID string `json:"migration_id"`
	// Policy is the content of the policy the cases move to (the API's loaded
	// policy), carried by each decision as a single migrate_policy carries it.
	Policy tierflow.Policy `json:"policy"`
	Reason string          `json:"reason"`
	// Actor is the supervisor or executive who asked, as the API authenticated them.
	Actor tierflow.Principal `json:"actor"`
	Cases []MigrationCase    `json:"cases"`
	// AuthorizedUntil is when the cases' authorizations expire (the API sets
	// it to submit + activities.MigrationAuthorizationTTL).
	AuthorizedUntil time.Time `json:"authorized_until"`
}

// MigrationCase is one matched case.
type MigrationCase struct {
	CaseID string `json:"case_id"`
	// Policy is the policy the case ran under at submit ("name@version", from
	// its record): a case already under the target is counted unchanged and
	// sent nothing.
	Policy string `json:"policy"`
	// Authorization is the API's authorization of the case's decision for this
	// migration's workflow until AuthorizedUntil (activities.AuthorizeMigration,
	// MigrationGrant); MigrateCase refuses a decision without it.
	Authorization string `json:"authorization,omitempty"`
}

// Decision is the migrate_policy decision every case of the migration receives.
func (in PolicyMigrationInput) Decision() tierflow.Decision {
	snapshot := in.Policy
	return tierflow.Decision{Action: tierflow.ActionMigratePolicy, DecisionID: MigrationDecisionID(in.MigrationID, in.Policy.Ref()),
		Actor: in.Actor, Policy: in.Policy.Ref(), PolicySnapshot: &snapshot, Reason: in.Reason}
}

// MigrationProgress is where a migration stands; once completed, its summary.
type MigrationProgress struct {
	MigrationID string `json:"migration_id"`
	Policy      string `json:"policy"`
	Status      string `json:"status"`
	// Total = Done + Pending; Done = migrated + unchanged + refused.
	Total     int                `json:"total"`
	Done      int                `json:"done"`
	Pending   int                `json:"pending"`
	Migrated  []string           `json:"migrated"`
	Unchanged []string           `json:"unchanged"` // already under the target
	Refused   []MigrationRefusal `json:"refused"`
}

// MigrationRefusal is a case that did not take its decision: what it refused it
// with, or CodeUnavailable when it could not be reached.
type MigrationRefusal struct {
	CaseID  string        `json:"case_id"`
	Code    tierflow.Code `json:"code"`
	Message string        `json:"message"`
}

// NewMigrationProgress is a migration's progress before any decision is sent:
// the cases already under the target are done (unchanged).
func NewMigrationProgress(in PolicyMigrationInput) MigrationProgress {
	p := MigrationProgress{MigrationID: in.MigrationID, Policy: in.Policy.Ref(), Status: MigrationRunning,
		Total: len(in.Cases), Migrated: []string{}, Unchanged: []string{}, Refused: []MigrationRefusal{}}
	for _, c := range in.Cases {
		if c.Policy == in.Policy.Ref() {
			p.Unchanged = append(p.Unchanged, c.CaseID)
		}
	}
	p.Done = len(p.Unchanged)
	p.Pending = p.Total - p.Done
	return p
}

// Line is the progress in one line: "12/37 done (10 migrated, 1 unchanged, 1 refused)".
func (p MigrationProgress) Line() string {
	return fmt.Sprintf("%d/%d done (%d migrated, %d unchanged, %d refused)", p.Done, p.Total, len(p.Migrated),
		len(p.Unchanged), len(p.Refused))
}

// Validate checks what the API must have given: an id, a policy, an actor and
// at most MaxMigrationCases distinct cases.
func (in PolicyMigrationInput) Validate() error {
	var v tierflow.Validation
	v.Check(in.MigrationID != "", "migration_id", "is required")
	v.Check(in.Policy.Name != "" && in.Policy.Version != "", "policy", "is required: the target policy's content")
	v.Check(in.Actor.ID != "", "actor", "is required")
	v.Check(len(in.Cases) <= MaxMigrationCases, "cases", "at most %d", MaxMigrationCases)
	seen := make(map[string]bool, len(in.Cases))
	for _, c := range in.Cases {
		v.Check(c.CaseID != "" && !seen[c.CaseID], "cases", "case ids must be present and distinct, got %q", c.CaseID)
		seen[c.CaseID] = true
	}
	return v.Err("invalid policy migration")
}

// MigrationGrant is what the authorization of case caseID's decision binds:
// the case, this migration's workflow id, and its expiry.
func (in PolicyMigrationInput) MigrationGrant(caseID string) activities.MigrationGrant {
	return activities.MigrationGrant{CaseID: caseID, WorkflowID: PolicyMigrationID(in.MigrationID), Until: in.AuthorizedUntil}
}

// PolicyMigrationStartOptions start the migration's workflow: a running one with
// the same id is used instead (the same request again attaches to it), a
// completed one is not started again (its result is the answer), and one that
// failed or was terminated may be (the API first checks that its memo names the
// same target). The Temporal UI shows what it does and why.
func PolicyMigrationStartOptions(in PolicyMigrationInput) client.StartWorkflowOptions {
	sent := len(in.Cases) - len(NewMigrationProgress(in).Unchanged)
	return client.StartWorkflowOptions{
		ID:                       PolicyMigrationID(in.MigrationID),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		Memo:                     map[string]any{MemoMigrationPolicy: in.Policy.Ref()},
		StaticSummary: truncate(fmt.Sprintf("migrate %d cases to %s: %s", sent, in.Policy.Ref(),
			strings.Join(strings.Fields(in.Reason), " ")), 200),
		StaticDetails: truncate(fmt.Sprintf("**Policy migration %s**\n\n- To %s\n- Asked by %s (%s)\n- %d case(s) matched, "+
			"%d already under %s\n- Reason: %s\n", in.MigrationID, in.Policy.Ref(), in.Actor.ID, in.Actor.Role,
			len(in.Cases), len(in.Cases)-sent, in.Policy.Ref(), in.Reason), 20000),
	}
}

// migrationActivityOptions: a decide Update answers within seconds; a case that
// cannot be reached (no worker, Temporal restarting) is retried with backoff for
// up to ten minutes, then reported unavailable.
var migrationActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    time.Minute,
	ScheduleToCloseTimeout: migrationCaseRetryWindow,
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
		MaximumInterval: 30 * time.Second},
}

const migrationCaseRetryWindow = 10 * time.Minute

// notReached is the refusal of a case no attempt reached.
var notReached = fmt.Sprintf("not reached: the case did not answer within %s of retries; start the migration "+
	"again under another migration id to retry it", migrationCaseRetryWindow)

// PolicyMigrationWorkflow migrates the cases of in and answers the summary.
func PolicyMigrationWorkflow(ctx workflow.Context, in PolicyMigrationInput) (MigrationProgress, error) {
	if err := in.Validate(); err != nil {
		return MigrationProgress{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	m := &policyMigration{in: in, progress: NewMigrationProgress(in)}
	if err := m.setup(ctx); err != nil {
		return MigrationProgress{}, err
	}
	return m.run(ctx), nil
}

type policyMigration struct {
	in       PolicyMigrationInput
	progress MigrationProgress
}

func (m *policyMigration) setup(ctx workflow.Context) error {
	return workflow.SetQueryHandlerWithOptions(ctx, QueryMigrationProgress,
		func() (MigrationProgress, error) { return m.progress, nil },
		workflow.QueryHandlerOptions{Description: "The migration's progress: total, done, pending, and the cases " +
			"migrated, unchanged (already under the target) and refused (with the reason); the summary once completed."})
}

// run sends every case not yet under the target its decision, keeping at most
// MigrationFanOut in flight, in the order given.
func (m *policyMigration) run(ctx workflow.Context) MigrationProgress {
	decision := m.in.Decision()
	workflow.SetCurrentDetails(ctx, m.progress.Line())
	sel := workflow.NewSelector(ctx)
	inFlight := 0
	for _, c := range m.in.Cases {
		if c.Policy == m.in.Policy.Ref() {
			continue
		}
		if inFlight == MigrationFanOut {
			sel.Select(ctx)
			inFlight--
		}
		opts := migrationActivityOptions
		opts.Summary = truncate("migrate case "+c.CaseID+" to "+m.in.Policy.Ref(), 200)
		f := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), ma.MigrateCase,
			activities.MigrateCaseInput{CaseID: c.CaseID, Decision: decision, Authorization: c.Authorization,
				AuthorizedUntil: m.in.AuthorizedUntil})
		caseID := c.CaseID
		sel.AddFuture(f, func(f workflow.Future) { m.settle(ctx, caseID, f) })
		inFlight++
	}
	for ; inFlight > 0; inFlight-- {
		sel.Select(ctx)
	}
	m.progress.Status = MigrationCompleted
	workflow.GetLogger(ctx).Info("policy migration completed", "migration_id", m.in.MigrationID,
		"policy", m.progress.Policy, "progress", m.progress.Line())
	return m.progress
}

// settle records one case's outcome.
func (m *policyMigration) settle(ctx workflow.Context, caseID string, f workflow.Future) {
	var res activities.MigrateCaseResult
	err := f.Get(ctx, &res)
	p := &m.progress
	p.Done++
	p.Pending--
	switch {
	case err != nil:
		workflow.GetLogger(ctx).Warn("a case of the migration was not reached", "case_id", caseID,
			"migration_id", m.in.MigrationID, "error", err)
		p.Refused = append(p.Refused, MigrationRefusal{CaseID: caseID, Code: tierflow.CodeUnavailable, Message: notReached})
	case res.Refusal != nil:
		p.Refused = append(p.Refused, MigrationRefusal{CaseID: caseID, Code: res.Refusal.Code, Message: res.Refusal.Message})
	default:
		p.Migrated = append(p.Migrated, caseID)
	}
	workflow.SetCurrentDetails(ctx, p.Line())
}
