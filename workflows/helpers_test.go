package workflows

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// t0 is a Wednesday morning, far from any weekend for the 24x7 tests.
var t0 = time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)

func cents(v int64) *int64 { return &v }

func dur(d time.Duration) tierflow.Duration { return tierflow.Duration{Duration: d} }

const day = 24 * time.Hour

// testPolicy is escalation.md's defaults on a 24x7 calendar, so deadlines are
// plain additions the tests can compute.
func testPolicy() tierflow.Policy {
	pp := func(ack, res, every time.Duration) tierflow.PriorityPolicy {
		return tierflow.PriorityPolicy{Calendar: "24x7", Acknowledge: tierflow.TierDurations{Default: dur(ack)},
			Resolve: tierflow.TierDurations{Default: dur(res)}, CustomerUpdateEvery: dur(every)}
	}
	return tierflow.Policy{
		Name: "test", Version: "v1",
		Calendars: map[string]tierflow.Calendar{"24x7": {Name: "24x7", AlwaysOpen: true}},
		Tiers: []tierflow.TierPolicy{
			{Tier: 1, Name: "frontline", AuthorityCents: cents(5000), Queue: "tier1@example.com", Team: "our customer service team"},
			{Tier: 2, Name: "specialist", AuthorityCents: cents(25000), Queue: "tier2@example.com", Team: "our specialists"},
			{Tier: 3, Name: "supervisor", AuthorityCents: cents(100000), Queue: "tier3@example.com", Team: "a supervisor"},
			{Tier: 4, Name: "executive", Queue: "tier4@example.com", Team: "our executive office"},
		},
		Priorities: map[tierflow.Priority]tierflow.PriorityPolicy{
			tierflow.PriorityUrgent: pp(time.Hour, 4*time.Hour, day),
			tierflow.PriorityHigh:   pp(4*time.Hour, 8*time.Hour, 2*day),
			tierflow.PriorityNormal: pp(8*time.Hour, 24*time.Hour, 2*day),
			tierflow.PriorityLow:    pp(24*time.Hour, 72*time.Hour, 3*day),
		},
		WarningRatio:    0.75,
		ApprovalTimeout: dur(4 * time.Hour),
		CloseTarget:     tierflow.CloseTargetPolicy{After: dur(30 * day), WarnAfter: dur(25 * day)},
		AwaitingCustomer: tierflow.AwaitingCustomerPolicy{Reminders: []tierflow.Duration{dur(day), dur(5 * day)},
			AutoResolveAfter: dur(14 * day)},
		Survey: tierflow.SurveyPolicy{Delay: dur(day), Reminder: dur(72 * time.Hour), Expiry: dur(14 * day), ReopenAtOrBelow: 2},
	}
}

// businessPolicy runs the normal priority on Mon-Fri 09:00-17:00 UTC.
func businessPolicy() tierflow.Policy {
	p := testPolicy()
	p.Calendars["business"] = tierflow.Calendar{Name: "business", TimeZone: "UTC",
		Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "17:00"}
	n := p.Priorities[tierflow.PriorityNormal]
	n.Calendar = "business"
	p.Priorities[tierflow.PriorityNormal] = n
	return p
}

func testRequest() tierflow.OpenCaseRequest {
	return tierflow.OpenCaseRequest{Source: "zendesk", ExternalID: "48213",
		Customer: tierflow.Customer{ID: "C-991", Name: "Ada Lovelace", Email: "ada@example.com", Locale: "en"},
		Subject:  "Refund not received", Category: "billing", Priority: tierflow.PriorityNormal, Channel: "phone",
		OpenedAt: t0, Trigger: tierflow.TriggerUnresolved, FrontlineSummary: "charge settled twice", Policy: "test"}
}

const testCaseID = "zendesk-48213"

var (
	integration = tierflow.Principal{ID: "crm", Role: tierflow.RoleIntegration}
	agent       = tierflow.Principal{ID: "agent-1", Role: tierflow.RoleAgent, Tier: 1, Departments: []string{"billing", "shipping", "technical"}}
	specialist  = tierflow.Principal{ID: "spec-1", Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"billing"}}
	supervisor  = tierflow.Principal{ID: "sup-1", Role: tierflow.RoleSupervisor, Tier: 3}
	executive   = tierflow.Principal{ID: "exec-1", Role: tierflow.RoleExecutive, Tier: 4}
)

// testEnv is a time-skipping environment with the workflow and the fakes.
func testEnv(t *testing.T, start time.Time) (*testsuite.TestWorkflowEnvironment, *fakes) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: testLogLevel}))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(CaseWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	f := &fakes{now: env.Now, signal: func(_, name string, arg any) { env.SignalWorkflow(name, arg) }}
	f.register(env)
	env.SetStartTime(start)
	env.SetTestTimeout(30 * time.Second)
	return env, f
}

// input starts a case without a code level, as runs started before levels
// were: it asks for the run-wide changes as patches (the test environment
// grants them all) and schedules the survey the old way.
func input(p tierflow.Policy, r tierflow.OpenCaseRequest) CaseInput {
	return CaseInput{Request: r, Policy: p, OpenedBy: integration}
}

// currentInput is input at the current code level, as the API starts cases.
func currentInput(p tierflow.Policy, r tierflow.OpenCaseRequest) CaseInput {
	in := input(p, r)
	in.Code = CurrentCode
	return in
}

// outcome captures one Update's fate: its receipt and, queried as the Update
// answered, the case it stands for (an Update answers only its receipt).
type outcome struct {
	rejected error
	err      error
	receipt  tierflow.Receipt
	view     tierflow.CaseView
	done     bool
}

// sendUpdate sends an Update now (call it from a delayed callback).
func sendUpdate(t *testing.T, env *testsuite.TestWorkflowEnvironment, name string, arg any) *outcome {
	return sendUpdateTo(t, env, name, arg, &outcome{})
}

func sendUpdateTo(t *testing.T, env *testsuite.TestWorkflowEnvironment, name string, arg any, o *outcome) *outcome {
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { o.rejected, o.done = err, true },
		OnComplete: func(v any, err error) {
			o.err, o.done = err, true
			if err != nil {
				return
			}
			o.receipt = answerReceipt(t, v)
			o.view = caseAnswered(t, env, o.receipt)
		},
	}, arg)
	return o
}

// answerReceipt is the receipt an Update answered (the test environment hands it
// over as the value or encoded).
func answerReceipt(t *testing.T, v any) tierflow.Receipt {
	t.Helper()
	switch v := v.(type) {
	case tierflow.Receipt:
		return v
	case converter.EncodedValue:
		var r tierflow.Receipt
		require.NoError(t, v.Get(&r))
		return r
	}
	t.Fatalf("an Update answered %T, not a receipt", v)
	return tierflow.Receipt{}
}

// caseAnswered queries the case a receipt stands for, as the API reads it from the
// record: the case is the receipt's, at its seq or later.
func caseAnswered(t *testing.T, env *testsuite.TestWorkflowEnvironment, r tierflow.Receipt) tierflow.CaseView {
	t.Helper()
	res, err := env.QueryWorkflow(QueryCase)
	require.NoError(t, err)
	var v tierflow.CaseView
	require.NoError(t, res.Get(&v))
	require.Equal(t, r.CaseID, v.ID, "the receipt names the case")
	require.GreaterOrEqual(t, v.Seq, r.Seq, "the case is at least where the receipt says")
	if v.Seq == r.Seq {
		assert.Equal(t, tierflow.ReceiptOf(v), r, "at the receipt's seq, the case is as the receipt says")
	}
	return v
}

// at runs fn after d of workflow time.
func at(env *testsuite.TestWorkflowEnvironment, d time.Duration, fn func()) {
	env.RegisterDelayedCallback(fn, d)
}

// decideAt sends a decision Update at d.
func decideAt(t *testing.T, env *testsuite.TestWorkflowEnvironment, d time.Duration, dec tierflow.Decision) *outcome {
	o := &outcome{}
	at(env, d, func() { sendUpdateTo(t, env, UpdateDecide, dec, o) })
	return o
}

// queryAt captures the case view at d.
func queryAt(t *testing.T, env *testsuite.TestWorkflowEnvironment, d time.Duration) *tierflow.CaseView {
	v := &tierflow.CaseView{}
	at(env, d, func() {
		res, err := env.QueryWorkflow(QueryCase)
		require.NoError(t, err)
		require.NoError(t, res.Get(v))
	})
	return v
}

// result returns the completed workflow's final view: the workflow returns its
// receipt, and the case query still answers once it completed.
func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) tierflow.CaseView {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var r tierflow.Receipt
	require.NoError(t, env.GetWorkflowResult(&r))
	v := caseAnswered(t, env, r)
	assert.Equal(t, tierflow.ReceiptOf(v), r, "the final receipt is the final case's")
	return v
}

func closeBy(actor tierflow.Principal, id string) tierflow.Decision {
	return tierflow.Decision{Action: tierflow.ActionClose, DecisionID: id, Actor: actor, Reason: "test over"}
}

var testLogLevel = func() slog.Level {
	if os.Getenv("TIERFLOW_TEST_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}()
