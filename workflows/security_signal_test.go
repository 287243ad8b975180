package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// Attacks on the decision Signal, whose payload names its own actor: anyone who
// can reach Temporal (its UI, `temporal workflow signal`) could act as anyone.
// Each forged signal below would have been applied before the staff directory
// check; now it is recorded as decision_rejected, marked via=signal, and the case
// does not change.

// member is an active directory entry for a principal.
func member(p tierflow.Principal) activities.LookUpStaffResult {
	return activities.LookUpStaffResult{Found: true, Active: true, Member: p}
}

// caseFacts is what a forged decision must not change.
type caseFacts struct {
	Status       tierflow.Status
	Tier         tierflow.Tier
	Department   string
	Assignee     *string
	LastDecision string
	ClosedAt     *time.Time
	Compensation []tierflow.Compensation
}

func factsOf(v tierflow.CaseView) caseFacts {
	return caseFacts{Status: v.Status, Tier: v.Tier, Department: v.Department, Assignee: v.Assignee,
		LastDecision: v.LastDecision, ClosedAt: v.ClosedAt, Compensation: v.Compensation}
}

func TestSecurityForgedDecisionSignalIsRejected(t *testing.T) {
	realAgent := tierflow.Principal{ID: "agent-7", Name: "Alex Kim", Role: tierflow.RoleAgent, Tier: 1, Departments: []string{"billing"}}
	retired := tierflow.Principal{ID: "exec-retired", Name: "Former Executive", Role: tierflow.RoleExecutive, Tier: 4}
	shipping := tierflow.Principal{ID: "agent-8", Name: "Sam Lee", Role: tierflow.RoleAgent, Tier: 1, Departments: []string{"shipping"}}
	directory := map[string]activities.LookUpStaffResult{
		realAgent.ID: member(realAgent), shipping.ID: member(shipping),
		retired.ID: {Found: true, Active: false, Member: retired},
	}
	for _, tc := range []struct {
		name    string
		actor   tierflow.Principal
		action  tierflow.Action // close unless said
		reason  string
		byActor string // the rejection's actor: the system for a refused identity, the member for a refused decision
	}{
		{name: "invented executive", actor: tierflow.Principal{ID: "exec-impostor", Name: "The CEO", Role: tierflow.RoleExecutive, Tier: 4},
			reason: `unknown staff id: the staff directory has no member "exec-impostor"`, byActor: tierflow.SystemActor.ID},
		{name: "no actor at all", actor: tierflow.Principal{Role: tierflow.RoleExecutive, Tier: 4},
			reason: "unknown staff id: the signal names no staff member", byActor: tierflow.SystemActor.ID},
		{name: "inactive member", actor: tierflow.Principal{ID: retired.ID, Role: tierflow.RoleExecutive, Tier: 4},
			reason: `inactive: staff member "exec-retired" is not active`, byActor: tierflow.SystemActor.ID},
		{name: "agent promoted to executive", actor: tierflow.Principal{ID: realAgent.ID, Role: tierflow.RoleExecutive, Tier: 4},
			reason:  `role/tier mismatch: the signal names "agent-7" as "executive" at tier 4; the staff directory has them as "agent" at tier 1`,
			byActor: tierflow.SystemActor.ID},
		{name: "agent at another tier", actor: tierflow.Principal{ID: realAgent.ID, Role: tierflow.RoleAgent, Tier: 3},
			reason: "role/tier mismatch", byActor: tierflow.SystemActor.ID},
		{name: "department claimed in the payload", actor: tierflow.Principal{ID: shipping.ID, Role: tierflow.RoleAgent, Tier: 1,
			Departments: []string{"billing"}}, action: tierflow.ActionAcknowledge,
			reason: "the actor does not serve the billing department", byActor: shipping.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.action == "" {
				tc.action = tierflow.ActionClose
			}
			env, f := testEnv(t, t0)
			f.directory = directory
			r := testRequest()
			r.Department = "billing"
			before := queryAt(t, env, 30*time.Second)
			at(env, time.Minute, func() {
				env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tc.action, DecisionID: "forged-1",
					Actor: tc.actor, Reason: "closing it myself"})
			})
			after := queryAt(t, env, 2*time.Minute)
			acked := decideAt(t, env, 3*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: realAgent})
			decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
			env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
			final := result(t, env)

			// Nothing changed but the record of the attempt.
			assert.Equal(t, factsOf(*before), factsOf(*after), "the forged decision changed the case")
			assert.Equal(t, before.Seq+1, after.Seq, "one event: the rejection")
			rejected := f.eventsOf(tierflow.EventDecisionRejected)
			require.Len(t, rejected, 1)
			assert.Contains(t, rejected[0].Reason, tc.reason)
			assert.Equal(t, tc.byActor, rejected[0].Actor.ID)
			assert.Equal(t, tierflow.ViaSignal, rejected[0].Details[tierflow.DetailVia], "marked as a signal")
			assert.Equal(t, "decision", rejected[0].Details[tierflow.DetailMessage])
			assert.Equal(t, string(tc.action), rejected[0].Details[tierflow.DetailAction])
			assert.Equal(t, "forged-1", rejected[0].Details[tierflow.DetailDecisionID])
			// The case went on, closed by the real supervisor only.
			require.NoError(t, acked.rejected, "the case still works")
			closed := f.eventsOf(tierflow.EventClosed)
			require.Len(t, closed, 1)
			assert.Equal(t, supervisor.ID, closed[0].Actor.ID)
			assert.Equal(t, "end", closed[0].Details[tierflow.DetailDecisionID])
			assert.Equal(t, tierflow.StatusClosed, final.Status)
			f.checkRecord(t)
		})
	}
}

// A signal from a real member is applied as the directory knows them (name, role,
// tier, departments from the directory, whatever the payload says besides ID,
// role and tier), and every event it causes says it came by signal; the same
// member's decisions through the API (Updates) carry no such mark.
func TestSecuritySignalFromDirectoryMemberIsAppliedAsTheDirectorySaysAndMarked(t *testing.T) {
	env, f := testEnv(t, t0)
	exec := tierflow.Principal{ID: "exec-7", Name: "Jordan Reyes", Role: tierflow.RoleExecutive, Tier: 4, Departments: []string{"billing"}}
	f.directory = map[string]activities.LookUpStaffResult{exec.ID: member(exec)}
	acked := decideAt(t, env, time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "by-api", Actor: agent})
	at(env, 2*time.Minute, func() {
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "sig-note",
			Actor: tierflow.Principal{ID: exec.ID, Name: "Somebody Else", Role: tierflow.RoleExecutive, Tier: 4,
				Departments: []string{"legal"}}, Text: "spoke to the customer"})
	})
	noted := queryAt(t, env, 3*time.Minute)
	at(env, 4*time.Minute, func() {
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionClose, DecisionID: "sig-close",
			Actor: tierflow.Principal{ID: exec.ID, Role: tierflow.RoleExecutive, Tier: 4}, Reason: "settled by phone"})
	})
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	final := result(t, env)

	require.NoError(t, acked.rejected)
	assert.Empty(t, f.eventsOf(tierflow.EventDecisionRejected))
	ack := f.eventsOf(tierflow.EventAcknowledged)
	require.Len(t, ack, 1)
	assert.NotContains(t, ack[0].Details, tierflow.DetailVia, "a decision through the API is not marked")
	notes := f.eventsOf(tierflow.EventNote)
	require.Len(t, notes, 1)
	assert.Equal(t, exec, notes[0].Actor, "the directory's member, not the payload's name and departments")
	assert.Equal(t, tierflow.ViaSignal, notes[0].Details[tierflow.DetailVia])
	assert.Equal(t, "sig-note", notes[0].Details[tierflow.DetailDecisionID])
	assert.Equal(t, "note by exec-7 (signal)", noted.LastDecision)
	closed := f.eventsOf(tierflow.EventClosed)
	require.Len(t, closed, 1)
	assert.Equal(t, exec, closed[0].Actor)
	assert.Equal(t, tierflow.ViaSignal, closed[0].Details[tierflow.DetailVia])
	assert.Equal(t, tierflow.StatusClosed, final.Status)
	f.mu.Lock()
	assert.Equal(t, []string{exec.ID, exec.ID}, f.lookups, "one directory check per signal")
	f.mu.Unlock()
	f.checkRecord(t)
}

// While the directory cannot answer, a signalled decision is rejected after a few
// seconds of tries, with a reason that says to send it again; the case does not
// wait for it: an Update sent meanwhile is applied and answered at once.
func TestSecurityDirectoryOutageRejectsTheSignalWithoutBlockingTheCase(t *testing.T) {
	env, f := testEnv(t, t0)
	f.directoryDown = func() bool { return true }
	signalAt := time.Minute
	at(env, signalAt, func() {
		env.SignalWorkflow(SignalDecision, tierflow.Decision{Action: tierflow.ActionClose, DecisionID: "sig-close",
			Actor: supervisor, Reason: "done"})
	})
	update := decideAt(t, env, signalAt+500*time.Millisecond,
		tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: "by-api", Actor: agent})
	var answeredAtOnce bool // before the directory's first retry, a second after the signal
	at(env, signalAt+900*time.Millisecond, func() { answeredAtOnce = update.done })
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	rejected := f.eventsOf(tierflow.EventDecisionRejected)
	require.Len(t, rejected, 1)
	assert.Contains(t, rejected[0].Reason, "staff directory unavailable")
	assert.Contains(t, rejected[0].Reason, "send the signal again")
	assert.Equal(t, tierflow.ViaSignal, rejected[0].Details[tierflow.DetailVia])
	assert.Equal(t, "sig-close", rejected[0].Details[tierflow.DetailDecisionID])
	rejectedAt := rejected[0].At
	assert.False(t, rejectedAt.Before(t0.Add(signalAt+3*time.Second)), "three attempts, 1s then 2s apart: %s", rejectedAt)
	assert.True(t, rejectedAt.Before(t0.Add(signalAt+30*time.Second)), "bounded: %s", rejectedAt)
	f.mu.Lock()
	assert.Len(t, f.lookups, 3, "bounded retries")
	f.mu.Unlock()

	// The Update did not wait for the directory.
	require.True(t, update.done)
	require.NoError(t, update.rejected)
	require.NoError(t, update.err)
	assert.Equal(t, tierflow.StatusInProgress, update.view.Status)
	assert.True(t, answeredAtOnce, "the Update waited for the directory check")
	ack := f.eventsOf(tierflow.EventAcknowledged)
	require.Len(t, ack, 1)
	assert.Less(t, ack[0].Seq, rejected[0].Seq)
	closed := f.eventsOf(tierflow.EventClosed)
	require.Len(t, closed, 1)
	assert.Equal(t, "end", closed[0].Details[tierflow.DetailDecisionID], "the signalled close was not applied")
	f.checkRecord(t)
}
