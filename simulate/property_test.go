package simulate_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/policyfile"
	"github.com/tierflow/tierflow/simulate"
	"github.com/tierflow/tierflow/workflows"
)

// recorder stands in for the workflow's activities: it keeps what the case
// records, as postgres would, and sends nothing.
type recorder struct {
	mu     sync.Mutex
	events []tierflow.CaseEvent
}

func (r *recorder) RecordTransition(_ context.Context, in activities.RecordTransitionInput) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, in.Transition.Events...)
	return nil
}

func (r *recorder) AssignOwner(_ context.Context, in activities.AssignOwnerInput) (activities.AssignOwnerResult, error) {
	return activities.AssignOwnerResult{AssigneeID: fmt.Sprintf("owner-t%d", in.Tier)}, nil
}

func (r *recorder) LookUpStaff(_ context.Context, in activities.LookUpStaffInput) (activities.LookUpStaffResult, error) {
	return activities.LookUpStaffResult{}, nil
}

func (r *recorder) DeliverOutbox(context.Context, activities.DeliverOutboxInput) (activities.DeliverOutboxResult, error) {
	return activities.DeliverOutboxResult{}, nil
}

func (r *recorder) Notify(_ context.Context, in activities.NotifyInput) (activities.NotifyBatchResult, error) {
	return activities.NotifyBatchResult{}, nil
}

// The property: replaying a case under the very policy it ran reproduces its
// recorded breaches exactly. The recorded runs are real: each random timeline
// of human actions drives the case workflow in Temporal's time-skipping test
// environment, and its recorded events are what the simulator replays.
func TestSimulatingTheRecordedPolicyReproducesRecordedBreaches(t *testing.T) {
	policy, err := policyfile.Load("testdata/test.yaml")
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(12, 2026))
	var total simulate.Counters
	surveys := 0
	for run := range 12 {
		c := recordRandomCase(t, policy, rng, run)
		for _, ev := range c.Events {
			if ev.Type == tierflow.EventSurveySent {
				surveys++
			}
		}
		rep := simulate.Simulate([]simulate.CaseLog{c}, policy, simulate.Window{AsOf: c.Events[len(c.Events)-1].At})
		assert.Equal(t, rep.Actual.Breaches, rep.Simulated.Breaches, "run %d: %v", run, c.Events)
		assert.Equal(t, rep.Actual, rep.Simulated, "run %d", run)
		assert.Empty(t, rep.ChangedCases, "run %d", run)
		total.Add(rep.Actual)
	}
	// The timelines are slow enough that the property is about real breaches.
	t.Logf("recorded: %+v", total)
	assert.Greater(t, total.BreachesTotal, 5)
	assert.Greater(t, total.AutomaticEscalations, 3)
	// Some cases closed after their survey went out of the outbox: recorded
	// lazily, at the close, and counted as the simulation sends it.
	t.Logf("surveys sent: %d", surveys)
	assert.Greater(t, surveys, 2)
}

// recordRandomCase opens a case and sends it a random timeline: acknowledge,
// request info and reply, escalate, resolve, at random instants (odd seconds, so
// that no action ties with a deadline).
func recordRandomCase(t *testing.T, p tierflow.Policy, rng *rand.Rand, run int) simulate.CaseLog {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.CaseWorkflow, workflow.RegisterOptions{Name: workflows.WorkflowName})
	rec := &recorder{}
	env.RegisterActivityWithOptions(rec.RecordTransition, activity.RegisterOptions{Name: "RecordTransition"})
	env.RegisterActivityWithOptions(rec.AssignOwner, activity.RegisterOptions{Name: "AssignOwner"})
	env.RegisterActivityWithOptions(rec.LookUpStaff, activity.RegisterOptions{Name: "LookUpStaff"})
	env.RegisterActivityWithOptions(rec.DeliverOutbox, activity.RegisterOptions{Name: "DeliverOutbox"})
	env.RegisterActivityWithOptions(rec.Notify, activity.RegisterOptions{Name: "Notify"})
	start := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.SetTestTimeout(30 * time.Second)
	actor := tierflow.Principal{ID: "exec-1", Role: tierflow.RoleExecutive, Tier: 4}
	at := time.Duration(0)
	step := func() time.Duration { return time.Duration(1+2*rng.IntN(7*3600)) * time.Second } // odd seconds
	decide := func(d tierflow.Decision) {
		at += step()
		d.Actor, d.DecisionID = actor, fmt.Sprintf("d-%d", at)
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.UpdateDecide, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(error) {}, OnComplete: func(any, error) {}}, d)
		}, at)
	}
	if rng.IntN(3) > 0 {
		decide(tierflow.Decision{Action: tierflow.ActionAcknowledge})
	}
	if rng.IntN(2) == 0 {
		decide(tierflow.Decision{Action: tierflow.ActionRequestInfo, Message: "which order?"})
		at += step()
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.UpdateCustomerEvent, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(error) {}, OnComplete: func(any, error) {}},
				tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: fmt.Sprintf("e-%d", at), Message: "order 7"})
		}, at)
	}
	if rng.IntN(3) == 0 {
		decide(tierflow.Decision{Action: tierflow.ActionEscalate, Mode: tierflow.EscalationHierarchical,
			Reason: "needs authority", Summary: "tried refund"})
	}
	decide(tierflow.Decision{Action: tierflow.ActionResolve, Resolution: "refunded", Explanation: "we charged twice"})
	if rng.IntN(2) == 0 {
		// Closed days later: the survey went out of the outbox meanwhile (and its
		// reminder, sometimes), recorded by the close's transition.
		at += time.Duration(1+rng.IntN(4)) * 24 * time.Hour
	}
	decide(tierflow.Decision{Action: tierflow.ActionClose, Reason: "done"})
	req := tierflow.OpenCaseRequest{Source: "zendesk", ExternalID: fmt.Sprintf("P-%d", run),
		Customer: tierflow.Customer{ID: "C-1", Name: "Ada", Email: "ada@example.com", Locale: "en"},
		Subject:  "Refund", Category: "billing", Priority: tierflow.PriorityNormal, Channel: "phone",
		OpenedAt: start, Trigger: tierflow.TriggerUnresolved, FrontlineSummary: "checked", Policy: p.Name}
	env.ExecuteWorkflow(workflows.WorkflowName, workflows.CaseInput{Request: req, Policy: p,
		OpenedBy: tierflow.Principal{ID: "crm", Role: tierflow.RoleIntegration}, Code: workflows.CurrentCode})
	require.True(t, env.IsWorkflowCompleted())
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return simulate.CaseLog{CaseID: tierflow.CaseID(req.Source, req.ExternalID), ExternalID: req.ExternalID,
		Priority: req.Priority, OpenedAt: start, Events: rec.events}
}
