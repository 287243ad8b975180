package workflows

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tierflow/tierflow"
)

// Every declared action has exactly one transition, and every transition is
// declared: adding an action without its transition (or the reverse) fails here.
func TestEveryDeclaredActionHasATransition(t *testing.T) {
	for _, a := range tierflow.Actions {
		assert.NotNil(t, decisionTransitions[a], "action %s has no transition in decide.go", a)
	}
	assert.Len(t, decisionTransitions, len(tierflow.Actions))
	for a := range decisionGuards {
		assert.True(t, a.Valid(), "guard for an undeclared action %s", a)
	}
}

// The decide Update's description (shown in the Temporal UI) lists every action.
func TestDecideDescriptionListsEveryAction(t *testing.T) {
	desc := DecideDescription()
	for _, s := range tierflow.ActionSpecs {
		assert.Contains(t, desc, " "+string(s.Action)+": "+s.Doc)
	}
}

// A property test over the state machine: random cases receive random decisions
// from random actors (by Update and by Signal), customer events and survey answers
// at random times, with clocks firing in between. Whatever happens:
//   - every status change follows tierflow.StatusTransitions;
//   - every applied decision was declared allowed in the status it found;
//   - a closed case holds no pending approval or pending compensation, and no clock;
//   - the record stays contiguous and every email key is unique (checkRecord);
//   - the survey through the outbox is answered or withdrawn, never delivered
//     after the case reopened or closed without its answer (checkSurveyOutbox);
//   - a warning through the outbox is withdrawn before its instant or released
//     at it, once, and no clock is warned twice of a deadline (checkWarningOutbox).
//
// It runs without a code level (the survey sent on its timer) and at the current
// level (the survey through the outbox), there with a mailer on time, 6 hours
// late or 3 days late (fakes.deliveryDelay), with four times the seeds: few
// random cases are resolved and then left alone long enough for their survey to
// go out.
func TestStateMachineProperties(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	for _, level := range codeLevelInputs {
		t.Run(level.name, func(t *testing.T) {
			n := seeds
			if level.input(testPolicy(), testRequest()).Code >= codeSurveyOutbox {
				n *= 4
			}
			for seed := range n {
				t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
					runRandomCase(t, uint64(seed), level.input)
				})
			}
		})
	}
}

// codeLevelInputs are the inputs the state-machine tests start their cases
// with: without a code level (histories from before levels) and at the current
// one (the API's).
var codeLevelInputs = []struct {
	name  string
	input func(tierflow.Policy, tierflow.OpenCaseRequest) CaseInput
}{{"no-level", input}, {"current-level", currentInput}}

// mailerDelays are the fake mailer's lags the property test cycles through.
var mailerDelays = []time.Duration{0, 6 * time.Hour, 3 * day}

func runRandomCase(t *testing.T, seed uint64, start func(tierflow.Policy, tierflow.OpenCaseRequest) CaseInput) {
	rng := rand.New(rand.NewPCG(seed, 7))
	env, f := testEnv(t, t0)
	f.deliveryDelay = mailerDelays[seed%uint64(len(mailerDelays))]
	env.SetTestTimeout(time.Minute)
	r := testRequest()
	r.Priority = tierflow.Priorities[rng.IntN(len(tierflow.Priorities))]
	r.Trigger = tierflow.Triggers[rng.IntN(len(tierflow.Triggers))]
	if rng.IntN(3) == 0 {
		r.Department = "billing"
	}

	var applied []appliedDecision
	actors := []tierflow.Principal{agent, specialist, supervisor, executive,
		{ID: "spec-2", Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"shipping"}}}
	at := time.Duration(0)
	for i := range 25 {
		gap := time.Duration(1+rng.IntN(120)) * time.Minute // mostly between clocks
		if rng.IntN(5) == 0 {
			gap = time.Duration(rng.IntN(int(6*day/time.Minute))) * time.Minute // now and then past several
		}
		at += gap
		i := i
		when := at
		kind := rng.IntN(10)
		env.RegisterDelayedCallback(func() {
			v := currentView(t, env)
			switch {
			case kind < 7:
				d := randomDecision(rng, actors, v, fmt.Sprintf("d%d", i))
				if rng.IntN(4) == 0 {
					env.SignalWorkflow(SignalDecision, d)
					return
				}
				applied = append(applied, appliedDecision{d: d, before: v.Status, at: when,
					o: sendUpdate(t, env, UpdateDecide, d)})
			case kind < 9:
				kinds := tierflow.CustomerEventKinds
				env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: kinds[rng.IntN(len(kinds))],
					EventID: fmt.Sprintf("e%d", i), Message: "from the CRM"})
			default:
				round := 1 // the link of the case's current survey
				if v.Survey != nil && v.Survey.Round > 0 {
					round = v.Survey.Round
				}
				sendUpdate(t, env, UpdateSurvey, tierflow.SurveyResponse{Score: 1 + rng.IntN(5), Resolved: rng.IntN(2) == 0, Round: round})
			}
		}, when)
	}
	env.RegisterDelayedCallback(func() {
		v := currentView(t, env)
		if v.Status != tierflow.StatusClosed {
			env.SignalWorkflow(SignalDecision, closeBy(executive, "end-of-property-run"))
		}
	}, at+time.Hour)
	env.ExecuteWorkflow(WorkflowName, start(testPolicy(), r))
	final := result(t, env)

	// Status changes follow the table.
	prev := tierflow.Status("")
	for _, ev := range f.events() {
		if prev != "" && ev.Status != prev {
			assert.True(t, prev.CanBecome(ev.Status), "seed %d: %s -> %s (event %d %s) is not in StatusTransitions",
				seed, prev, ev.Status, ev.Seq, ev.Type)
		}
		prev = ev.Status
	}
	// Applied decisions were allowed where they landed.
	accepted := 0
	for _, a := range applied {
		if !a.o.done || a.o.rejected != nil || a.o.err != nil {
			continue
		}
		accepted++
		spec, ok := tierflow.SpecOf(a.d.Action)
		require.True(t, ok)
		assert.True(t, spec.Allows(a.before) || a.before == "", "seed %d: %s applied in %s", seed, a.d.Action, a.before)
	}
	t.Logf("seed %d: %d events, %d decisions accepted by Update, final tier %d, %d surveys scheduled, mailer lag %s",
		seed, len(f.events()), accepted, final.Tier, len(f.eventsOf(tierflow.EventSurveyScheduled)), f.deliveryDelay)
	// A closed case is settled.
	assert.Equal(t, tierflow.StatusClosed, final.Status)
	assert.Nil(t, final.PendingApproval, "seed %d", seed)
	for _, c := range final.Compensation {
		assert.NotEqualValues(t, tierflow.CompensationPending, c.Status, "seed %d: compensation %s", seed, c.ID)
	}
	assert.Nil(t, final.Deadlines.AcknowledgeBy)
	assert.Nil(t, final.Deadlines.ResolveBy)
	assert.Nil(t, final.Deadlines.ApprovalBy)
	assert.Empty(t, final.Deadlines.Explanations, "seed %d: a closed case waits for nothing", seed)
	f.checkRecord(t)
	checkSurveyOutbox(t, f, final)
	checkWarningOutbox(t, f, final)
}

type appliedDecision struct {
	d      tierflow.Decision
	before tierflow.Status
	at     time.Duration
	o      *outcome
}

func currentView(t *testing.T, env *testsuite.TestWorkflowEnvironment) tierflow.CaseView {
	var v tierflow.CaseView
	res, err := env.QueryWorkflow(QueryCase)
	if err != nil { // the workflow already completed
		return v
	}
	require.NoError(t, res.Get(&v))
	return v
}

// randomDecision builds a plausible decision of a random action.
func randomDecision(rng *rand.Rand, actors []tierflow.Principal, v tierflow.CaseView, id string) tierflow.Decision {
	a := tierflow.Actions[rng.IntN(len(tierflow.Actions))]
	actor := executive // decides at any tier: more decisions land
	if rng.IntN(2) == 0 {
		actor = actors[rng.IntN(len(actors))]
	}
	d := tierflow.Decision{Action: a, DecisionID: id, Actor: actor}
	switch a {
	case tierflow.ActionNote:
		d.Text = "looked at it"
	case tierflow.ActionUpdateCustomer, tierflow.ActionRequestInfo:
		d.Message = "a word for the customer"
	case tierflow.ActionEscalate:
		d.Mode, d.Reason, d.Summary = tierflow.EscalationHierarchical, "needs more authority", "tried the usual"
		if rng.IntN(2) == 0 {
			d.Mode, d.Department = tierflow.EscalationFunctional, "billing"
		}
	case tierflow.ActionTransfer:
		d.Department, d.Summary = []string{"billing", "shipping"}[rng.IntN(2)], "their area"
	case tierflow.ActionReassign:
		d.Assignee = "someone-else"
	case tierflow.ActionProposeCompensation:
		d.AmountCents, d.Currency, d.Description = []int64{2000, 30000, 200000}[rng.IntN(3)], "EUR", "goodwill"
	case tierflow.ActionApprove, tierflow.ActionReject:
		d.ApprovalID = "apr-none"
		if v.PendingApproval != nil {
			d.ApprovalID = v.PendingApproval.ID
		}
	case tierflow.ActionResolve:
		d.Resolution, d.Explanation = "fixed", strings.Repeat("because ", rng.IntN(2))
	case tierflow.ActionReopen, tierflow.ActionClose:
		d.Reason = "as asked"
	case tierflow.ActionMigratePolicy:
		p := []tierflow.Policy{testPolicy(), *migrationTarget()}[rng.IntN(2)]
		d.Policy, d.PolicySnapshot, d.Reason = p.Ref(), &p, "trying the other version"
	}
	return d
}

// Every action in every status: a decision the table allows (by an executive,
// with every field its action needs) is applied, and one it does not is refused
// with a conflict; the case's status after it is one the action may lead to.
func TestEveryActionInEveryStatus(t *testing.T) {
	reach := map[tierflow.Status][]tierflow.Decision{
		tierflow.StatusOpen:       nil,
		tierflow.StatusInProgress: {{Action: tierflow.ActionAcknowledge, Actor: agent}},
		tierflow.StatusAwaitingCustomer: {{Action: tierflow.ActionAcknowledge, Actor: agent},
			{Action: tierflow.ActionRequestInfo, Actor: agent, Message: "which card?"}},
		tierflow.StatusAwaitingApproval: {{Action: tierflow.ActionAcknowledge, Actor: agent}, proposeAbove(agent, "")},
		tierflow.StatusResolved: {{Action: tierflow.ActionAcknowledge, Actor: agent},
			{Action: tierflow.ActionResolve, Actor: agent, Resolution: "refunded"}},
	}
	for _, level := range codeLevelInputs {
		t.Run(level.name, func(t *testing.T) { everyActionInEveryStatus(t, reach, level.input) })
	}
	// Closed: every action is refused.
	w := &caseWorkflow{in: input(testPolicy(), testRequest()), st: &CaseState{Status: tierflow.StatusClosed}}
	for _, a := range tierflow.Actions {
		err := w.validateDecision(fullDecision(a, executive))
		require.Error(t, err, a)
		assert.Contains(t, err.Error(), "closed")
	}
}

func everyActionInEveryStatus(t *testing.T, reach map[tierflow.Status][]tierflow.Decision,
	start func(tierflow.Policy, tierflow.OpenCaseRequest) CaseInput) {
	for status, steps := range reach {
		for _, a := range tierflow.Actions {
			t.Run(string(status)+"/"+string(a), func(t *testing.T) {
				env, f := testEnv(t, t0)
				for i, d := range steps {
					decideAt(t, env, time.Duration(i+1)*time.Minute, d)
				}
				before := queryAt(t, env, 30*time.Minute)
				probe := &outcome{}
				at(env, 31*time.Minute, func() {
					d := fullDecision(a, executive)
					if before.PendingApproval != nil {
						d.ApprovalID = before.PendingApproval.ID
					}
					sendUpdateTo(t, env, UpdateDecide, d, probe)
				})
				decideAt(t, env, time.Hour, closeBy(executive, "end"))
				env.ExecuteWorkflow(WorkflowName, start(testPolicy(), testRequest()))
				final := result(t, env)
				checkSurveyOutbox(t, f, final)
				checkWarningOutbox(t, f, final)

				require.Equal(t, status, before.Status, "reached the status under test")
				spec, _ := tierflow.SpecOf(a)
				want := spec.Allows(status)
				if a == tierflow.ActionApprove || a == tierflow.ActionReject {
					want = want && before.PendingApproval != nil
				}
				if !want {
					require.Error(t, probe.rejected, "%s must be refused in %s", a, status)
					e, ok := AsCaseError(probe.rejected)
					require.True(t, ok)
					assert.Equal(t, tierflow.CodeConflict, e.Code, e.Message)
					return
				}
				require.NoError(t, probe.rejected, "%s must be applied in %s", a, status)
				require.NoError(t, probe.err)
				after := probe.view.Status
				if after != status {
					assert.True(t, status.CanBecome(after), "%s: %s -> %s is not in the table", a, status, after)
				}
				if len(spec.Becomes) > 0 && after != status {
					assert.Contains(t, append(spec.Becomes, tierflow.StatusOpen, tierflow.StatusInProgress), after,
						"%s led to %s", a, after)
				}
			})
		}
	}
}

// fullDecision is a decision of action a with every field its action needs.
func fullDecision(a tierflow.Action, actor tierflow.Principal) tierflow.Decision {
	return tierflow.Decision{Action: a, Actor: actor, Text: "note", Message: "hello", Mode: tierflow.EscalationHierarchical,
		Department: "shipping", Reason: "because", Summary: "what was tried", Assignee: "someone",
		AmountCents: 1000, Currency: "EUR", Description: "voucher", ApprovalID: "apr-0", Note: "ok",
		Resolution: "fixed", Explanation: "what happened", Policy: "test@v2", PolicySnapshot: migrationTarget()}
}
