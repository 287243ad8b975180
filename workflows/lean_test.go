package workflows

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// beforeLeanHistory makes env's run one from before changeLeanHistory (and, as
// such runs did, ask every older patch).
func beforeLeanHistory(env *testsuite.TestWorkflowEnvironment) {
	beforeEmailOutbox(env)
	env.OnGetVersion(changeLeanHistory, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
}

// beforeEmailOutbox makes env's run one from before changeEmailOutbox: it asks
// changeLeanHistory and sends each transition's emails in one Notify activity.
func beforeEmailOutbox(env *testsuite.TestWorkflowEnvironment) {
	env.OnGetVersion(changeEmailOutbox, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
}

// leanScenario is a case with every kind of email on the typical path: opened
// (customer and queue), acknowledged, escalated to billing (customer and owner),
// acknowledged, resolved, surveyed, answered.
func leanScenario(t *testing.T, env *testsuite.TestWorkflowEnvironment, f *fakes) tierflow.CaseView {
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "d1", Actor: agent})
	decideAt(t, env, 20*time.Minute, tierflow.Decision{Action: tierflow.ActionEscalate, DecisionID: "d2", Actor: agent,
		Mode: tierflow.EscalationFunctional, Department: "billing", Reason: "double charge", Summary: "needs a refund"})
	decideAt(t, env, 30*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "d3", Actor: specialist})
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionResolve, DecisionID: "d4", Actor: specialist,
		Resolution: "refunded"})
	at(env, 26*time.Hour, func() {
		sendUpdate(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 5, Resolved: true, Comment: "thanks", Round: 1})
	})
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)
	f.checkRecord(t)
	return final
}

// The lean history and the email outbox change what a run costs Temporal, not
// what the case does: a run from before them, a lean one and one with the outbox
// record the same events, send the same emails under the same keys and end in
// the same state. The lean run sends each transition's emails in one Notify
// activity; the outbox run hands the same batches to its records (seq: the
// transition's last event) and schedules no email activity at all.
func TestLeanHistoryChangesNothingTheCaseDoes(t *testing.T) {
	oldEnv, old := testEnv(t, t0)
	beforeLeanHistory(oldEnv)
	oldFinal := leanScenario(t, oldEnv, old)
	leanEnv, lean := testEnv(t, t0)
	beforeEmailOutbox(leanEnv)
	leanFinal := leanScenario(t, leanEnv, lean)
	newEnv, outbox := testEnv(t, t0)
	newFinal := leanScenario(t, newEnv, outbox)

	assert.Empty(t, old.batches, "runs from before the change send one activity per email")
	assert.Equal(t, old.events(), lean.events())
	assert.Equal(t, old.events(), outbox.events())
	assert.Equal(t, oldFinal, leanFinal)
	assert.Equal(t, oldFinal, newFinal)
	assert.Equal(t, keysOf(old), keysOf(lean))
	assert.Equal(t, keysOf(old), keysOf(outbox))
	require.NotEmpty(t, keysOf(outbox))

	// One batch per transition with emails: the opening, the escalation, the
	// resolution, the survey.
	want := [][]string{
		{testCaseID + "/1/escalated", testCaseID + "/2/staff_assignment"},
		{testCaseID + "/4/escalated", testCaseID + "/5/staff_assignment"},
		{testCaseID + "/7/resolution"},
		{testCaseID + "/8/survey"},
	}
	var batches [][]string
	for _, b := range lean.batches {
		batches = append(batches, messageKeys(b.Messages))
	}
	assert.Equal(t, want, batches)

	assert.Empty(t, outbox.batches, "no Notify activity with the outbox")
	var outboxed [][]string
	var seqs []int64
	for _, b := range outbox.outboxed {
		outboxed = append(outboxed, messageKeys(b.Messages))
		seqs = append(seqs, b.Seq)
	}
	assert.Equal(t, want, outboxed)
	assert.Equal(t, []int64{2, 5, 7, 8}, seqs, "each batch named by its transition's last event")
}

func messageKeys(ms []activities.NotifyMessage) []string {
	var keys []string
	for _, m := range ms {
		if m.Customer != nil {
			keys = append(keys, m.Customer.Key)
		} else {
			keys = append(keys, m.Staff.Key)
		}
	}
	return keys
}

func keysOf(f *fakes) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for _, m := range f.customer {
		keys = append(keys, m.Key)
	}
	for _, m := range f.staff {
		keys = append(keys, m.Key)
	}
	return keys
}

// The problems one batch reports (an email of unknown fate, another refused) go
// on the case's record together, in one transition, each naming its message:
// from the Notify activity (lean runs), or signalled back by the mailer (outbox).
func TestEmailProblemsOfOneTransitionAreRecordedTogether(t *testing.T) {
	t.Run("lean", func(t *testing.T) {
		env, f := testEnv(t, t0)
		beforeEmailOutbox(env)
		f = emailProblemsScenario(t, env, f)
		require.Len(t, f.batches, 1)
		assert.Len(t, f.batches[0].Messages, 2, "the opening's emails in one activity")
	})
	t.Run("outbox", func(t *testing.T) {
		env, f := testEnv(t, t0)
		f = emailProblemsScenario(t, env, f)
		assert.Empty(t, f.batches)
		require.NotEmpty(t, f.outboxed)
		assert.Len(t, f.outboxed[0].Messages, 2, "the opening's emails in one batch")
	})
}

func emailProblemsScenario(t *testing.T, env *testsuite.TestWorkflowEnvironment, f *fakes) *fakes {
	f.unconfirmCustomer = tierflow.MsgEscalated
	f.rejectStaff = tierflow.MsgStaffAssignment
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	f.mu.Lock()
	var problems tierflow.Transition
	for _, tr := range f.transitions {
		if tr.Events[0].Type == tierflow.EventNotificationUnconfirmed {
			problems = tr
		}
	}
	f.mu.Unlock()
	require.Len(t, problems.Events, 2, "one transition records both")
	assert.Equal(t, testCaseID+"/1/escalated", problems.Events[0].Details[tierflow.DetailKey])
	assert.Equal(t, tierflow.EventNotificationFailed, problems.Events[1].Type)
	assert.Equal(t, testCaseID+"/2/staff_assignment", problems.Events[1].Details[tierflow.DetailKey])
	assert.Equal(t, string(tierflow.MsgStaffAssignment), problems.Events[1].Details[tierflow.DetailKind])
	assert.Equal(t, "email rejected: no such mailbox", problems.Events[1].Reason)
	assert.Len(t, f.staffOf(tierflow.MsgStaffAssignment), 1, "not retried")
	f.checkRecord(t)
	return f
}

// A run with changeLeanHistory takes, without asking, exactly the changes made
// before it: every one declared above it in versions.go, and none declared after.
func TestLeanHistoryImpliesExactlyTheOlderChanges(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "versions.go", nil, 0)
	require.NoError(t, err)
	var ids []string // in the order of declaration
	for _, decl := range file.Decls {
		if gen, ok := decl.(*ast.GenDecl); ok && gen.Tok == token.CONST {
			for _, spec := range gen.Specs {
				for _, v := range spec.(*ast.ValueSpec).Values {
					lit, ok := v.(*ast.BasicLit)
					require.True(t, ok, "a change ID is a string literal")
					id, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					ids = append(ids, id)
				}
			}
		}
	}
	require.Contains(t, ids, changeLeanHistory)
	older := true
	for _, id := range ids {
		if id == changeLeanHistory {
			older = false
			continue
		}
		assert.Equal(t, older, impliedByLeanHistory[id], "%s implied by %s", id, changeLeanHistory)
	}
	assert.Len(t, impliedByLeanHistory, len(ids[:slices.Index(ids, changeLeanHistory)]), "the implied changes are all declared")
}

// A record refused as invalid input (no retry can fix it) writes no outbox
// batch: its emails are sent as before the outbox, in one Notify, so none is lost.
func TestRefusedRecordStillSendsItsEmails(t *testing.T) {
	env, f := testEnv(t, t0)
	f.refuseRecord = func(n int) bool { return n == 1 } // the opening
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	require.Len(t, f.batches, 1, "the refused record's emails in one Notify")
	assert.Equal(t, []string{testCaseID + "/1/escalated", testCaseID + "/2/staff_assignment"},
		messageKeys(f.batches[0].Messages))
	assert.Equal(t, []tierflow.MessageKind{tierflow.MsgEscalated}, f.customerKinds())
	assert.Len(t, f.staffOf(tierflow.MsgStaffAssignment), 1)
	assert.Empty(t, f.outboxed, "the close sends no email; the opening's went by Notify")
}
