package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// A decision Signal carries its actor in its payload: whoever reaches Temporal
// (its UI, `temporal workflow signal`) can name anyone. So a signalled decision is
// applied only when the staff directory knows its actor as an active member with
// the role and tier the payload claims, and it is applied as the directory's
// member (name, role, tier and departments from the directory), every event it
// causes marked DetailVia=signal. Anything else is recorded as decision_rejected,
// also marked, with the reason: unknown staff id, inactive, role/tier mismatch, or
// a directory that could not answer (send the signal again).
//
// The check is not authentication: whoever knows a member's ID, role and tier can
// still name them. Temporal's own access control (mTLS, UI SSO; see
// deploy/RUNBOOK.md) proves who sent a signal; the check refuses invented,
// retired and promoted identities and leaves the audit trail.
//
// The case never waits on the directory. LookUpStaff runs outside the mutex, one
// at a time in order of arrival, with short timeouts and three attempts (the spirit
// of record.go): timers, Updates and other signals go on meanwhile. A decision is
// validated once its actor is known, against the case as it is then.

// checkSignalActor queues a signalled decision for the directory check (the caller
// holds mu). An actor ID no directory can hold is refused at once.
func (w *caseWorkflow) checkSignalActor(ctx workflow.Context, d tierflow.Decision) {
	if d.Actor.ID == "" || len(d.Actor.ID) > tierflow.MaxIDLen {
		t := w.begin(ctx)
		w.rejectSignal(t, tierflow.SystemActor, tierflow.Errorf(tierflow.CodeForbidden,
			"unknown staff id: the signal names no staff member as its actor; a signal's actor must be the sender's own staff ID"), d)
		w.commit(ctx, t)
		return
	}
	w.unchecked = append(w.unchecked, d)
	if w.checking {
		return
	}
	w.checking = true
	workflow.Go(ctx, func(ctx workflow.Context) {
		for len(w.unchecked) > 0 {
			next := w.unchecked[0]
			res, lookupErr := w.lookUpStaff(ctx, next.Actor.ID)
			if err := w.mu.Lock(ctx); err != nil {
				return
			}
			w.unchecked = w.unchecked[1:]
			w.applyCheckedSignal(ctx, next, res, lookupErr)
			w.mu.Unlock()
		}
		w.checking = false
	})
}

// lookUpStaff asks the directory for one member, without the mutex.
func (w *caseWorkflow) lookUpStaff(ctx workflow.Context, id string) (activities.LookUpStaffResult, error) {
	var res activities.LookUpStaffResult
	err := workflow.ExecuteActivity(directoryCtx(ctx, "check the signal's actor "+id), a.LookUpStaff,
		activities.LookUpStaffInput{CaseID: w.st.CaseID, StaffID: id}).Get(ctx, &res)
	return res, err
}

// directoryCtx are the options of the directory check: it answers within seconds
// or the signal is rejected (three attempts of at most 5s, all within 20s).
func directoryCtx(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    5 * time.Second,
		ScheduleToCloseTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 5 * time.Second, MaximumAttempts: 3,
			NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput}},
		Summary: truncate(summary, 200),
	})
}

// applyCheckedSignal applies (or records as rejected) a signalled decision once
// the directory has answered; the caller holds mu.
func (w *caseWorkflow) applyCheckedSignal(ctx workflow.Context, d tierflow.Decision, res activities.LookUpStaffResult, lookupErr error) {
	if w.st.seenDecision(d.DecisionID) { // applied meanwhile, by an Update or an earlier signal
		workflow.GetLogger(ctx).Info("duplicate decision ignored", "case_id", w.st.CaseID, "decision_id", d.DecisionID)
		return
	}
	if lookupErr != nil {
		workflow.GetLogger(ctx).Warn("staff directory check failed; the signal is rejected", "case_id", w.st.CaseID,
			"actor_id", d.Actor.ID, "error", lookupErr)
	}
	t := w.begin(ctx)
	actor, err := vouchedActor(d.Actor, res, lookupErr)
	if err != nil {
		w.rejectSignal(t, tierflow.SystemActor, err, d) // the sender is unknown
		w.commit(ctx, t)
		return
	}
	d.Actor = actor
	if err := w.judgeDecision(ctx, w.asJudged(ctx, d)); err != nil {
		w.rejectSignal(t, actor, err, d)
	} else {
		w.applyDecision(t, d, tierflow.ViaSignal)
	}
	w.commit(ctx, t)
}

// vouchedActor is the directory's member for the actor a signal claims, or why the
// claim is refused.
func vouchedActor(claimed tierflow.Principal, res activities.LookUpStaffResult, lookupErr error) (tierflow.Principal, error) {
	id := truncate(claimed.ID, 64)
	switch {
	case lookupErr != nil:
		return tierflow.Principal{}, tierflow.Errorf(tierflow.CodeUnavailable,
			"staff directory unavailable: actor %q could not be checked, so nothing was applied; send the signal again", id)
	case !res.Found || res.Member.ID != claimed.ID:
		return tierflow.Principal{}, tierflow.Errorf(tierflow.CodeForbidden,
			"unknown staff id: the staff directory has no member %q; a signal's actor must be the sender's own staff ID", id)
	case !res.Active:
		return tierflow.Principal{}, tierflow.Errorf(tierflow.CodeForbidden,
			"inactive: staff member %q is not active in the staff directory", id)
	case res.Member.Role != claimed.Role || res.Member.Tier != claimed.Tier:
		return tierflow.Principal{}, tierflow.Errorf(tierflow.CodeForbidden,
			"role/tier mismatch: the signal names %q as %s; the staff directory has them as %s",
			id, roleAtTier(claimed), roleAtTier(res.Member))
	}
	return res.Member, nil
}

func roleAtTier(p tierflow.Principal) string {
	return fmt.Sprintf("%q at tier %d", truncate(string(p.Role), 32), p.Tier)
}

// rejectSignal records a refused decision signal with what identifies it.
func (w *caseWorkflow) rejectSignal(t *transition, actor tierflow.Principal, err error, d tierflow.Decision) {
	w.recordRejection(t, actor, err, map[string]string{tierflow.DetailMessage: "decision",
		tierflow.DetailAction: truncate(string(d.Action), 64), tierflow.DetailDecisionID: truncate(d.DecisionID, tierflow.MaxIDLen)})
}
