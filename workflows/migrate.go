package workflows

import (
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// A migrate_policy decision moves a case in flight to another policy: never
// automatically, only by a supervisor or above, with a reason. The workflow
// cannot read policy files, so the decision carries the policy's content
// (Decision.PolicySnapshot, attached by the API from its registry, validated
// here like any decision field); the new policy then replaces the pinned one in
// CaseInput and travels with it through continue-as-new.

// migratePolicyGuard refuses a migration without the policy's content (a
// signal typed without it) or to the policy the case already runs under.
func migratePolicyGuard(w *caseWorkflow, d tierflow.Decision, _ tierflow.Tier) error {
	p := d.PolicySnapshot
	if p == nil {
		return &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid migrate_policy decision",
			Fields: []tierflow.FieldError{{Field: "policy_snapshot",
				Message: "is required: the content of the policy the case moves to (the API attaches it from its registry)"}}}
	}
	if cur := w.in.Policy; p.Name == cur.Name && p.Version == cur.Version {
		return tierflow.Errorf(tierflow.CodeConflict, "the case already runs under policy %s", cur.Ref())
	}
	return nil
}

// migratePolicyDecision rebases every running deadline on the new policy
// (tierflow.Policy.Rebase: explanations name both versions), pins the new
// policy, records a policy_migrated event with the deadlines before and after,
// updates the memo, and emails the customer once when the ETA they were given
// changed.
func (w *caseWorkflow) migratePolicyDecision(t *transition, d tierflow.Decision, tag eventTag) {
	st := w.st
	from, to := w.in.Policy, *d.PolicySnapshot
	etaBefore, withinBefore := st.eta(), w.answerWithin()
	before := runningDeadlines(&st.Clocks)

	w.rebaseClocks(t, from, to)
	w.in.Policy = to
	after := runningDeadlines(&st.Clocks)
	st.LastDecision = "policy " + from.Ref() + " -> " + to.Ref() + " by " + d.Actor.ID

	etaChanged := !sameInstant(etaBefore, st.eta()) || withinBefore != w.answerWithin()
	seq := w.emit(t, tierflow.EventPolicyMigrated, d.Actor, func(ev *tierflow.CaseEvent) {
		ev.Reason = d.Reason
		ev.Summary = explanations(after)
		ev.Details = map[string]string{tierflow.DetailFromPolicy: from.Ref(), tierflow.DetailPolicy: to.Ref(),
			tierflow.DetailDeadlinesBefore: instants(before), tierflow.DetailDeadlinesAfter: instants(after)}
		if etaChanged {
			ev.CustomerMessage = customerMigrationNote
		}
		tag(ev)
	})
	// The memo names the pinned policy (names.go); a new run inherits it.
	if err := workflow.UpsertMemo(t.ctx, map[string]any{"policy": to.Ref()}); err != nil {
		workflow.GetLogger(t.ctx).Warn("memo not updated", "case_id", st.CaseID, "error", err)
	}
	if etaChanged {
		w.mailNewETA(t, seq, customerMigrationNote)
	}
}

// customerMigrationNote is what the customer is told when a migration moved
// their ETA (the email carries the new one).
const customerMigrationNote = "We have changed how we handle your case, and with it when to expect our answer."

// rebaseClocks moves every running clock from policy from to policy to. Tier
// clocks and the answer promise stand still while the case is paused: their
// used time is counted up to the pause (or their start, if later), and the
// resume moves them on as before. A tier-4 clock started again after a breach
// gets the new policy's base period (its repeat count stays, so the next repeat
// doubles from there): the migration is the moment the new figures apply.
func (w *caseWorkflow) rebaseClocks(t *transition, from, to tierflow.Policy) {
	st, c, pr := w.st, &w.st.Clocks, w.in.Request.Priority
	for _, dl := range []**tierflow.Deadline{&c.Acknowledge, &c.Resolve, &c.Answer} {
		if *dl == nil {
			continue
		}
		at := t.now
		if st.PausedAt != nil {
			at = *st.PausedAt
			if (*dl).Start.After(at) {
				at = (*dl).Start
			}
		}
		next := to.Rebase(from, **dl, pr, at)
		*dl = &next
	}
	for _, dl := range []**tierflow.Deadline{&c.CustomerUpdate, &c.Approval} {
		if *dl != nil {
			next := to.Rebase(from, **dl, pr, t.now)
			*dl = &next
		}
	}
	if c.Approval != nil && st.PendingApproval != nil {
		st.PendingApproval.ExpiresAt = c.Approval.At
	}
	if !c.CloseTarget.At.IsZero() {
		c.CloseTarget = to.Rebase(from, c.CloseTarget, pr, t.now)
	}
}

// runningDeadlines lists the running clocks, in a fixed order.
func runningDeadlines(c *Clocks) []tierflow.Deadline {
	var out []tierflow.Deadline
	for _, dl := range []*tierflow.Deadline{c.Acknowledge, c.Resolve, c.Answer, c.CustomerUpdate, c.Approval} {
		if dl != nil {
			out = append(out, *dl)
		}
	}
	if !c.CloseTarget.At.IsZero() {
		out = append(out, c.CloseTarget)
	}
	return out
}

// instants writes deadlines as "<clock>[.t<tier>]=<RFC 3339>; ..." for the audit
// event (tierflow.DetailDeadlinesBefore and After).
func instants(dls []tierflow.Deadline) string {
	parts := make([]string, len(dls))
	for i, dl := range dls {
		name := string(dl.Clock)
		if dl.Tier.Valid() {
			name += ".t" + itoa(int(dl.Tier))
		}
		parts[i] = name + "=" + dl.At.UTC().Format(time.RFC3339)
	}
	return strings.Join(parts, "; ")
}

// explanations joins the deadlines' explanations, one per line.
func explanations(dls []tierflow.Deadline) string {
	parts := make([]string, len(dls))
	for i, dl := range dls {
		parts[i] = dl.Explanation
	}
	return strings.Join(parts, "\n")
}

func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
