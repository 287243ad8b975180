package workflows

import (
	"fmt"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// proposeCompensation records an amount within the actor's authority, or asks the
// lowest tier with that authority to approve it (status awaiting_approval, tier
// clocks paused, approval clock running).
func (w *caseWorkflow) proposeCompensation(t *transition, d tierflow.Decision, tag eventTag) {
	st, p := w.st, w.in.Policy
	seq := st.Seq + 1 // the event below; names the compensation and approval
	c := tierflow.Compensation{ID: fmt.Sprintf("comp-%d", seq), AmountCents: d.AmountCents, Currency: d.Currency,
		Description: d.Description, ProposedBy: d.Actor.ID, At: t.now}
	details := map[string]string{tierflow.DetailCompensationID: c.ID, tierflow.DetailAmountCents: formatInt(d.AmountCents), tierflow.DetailCurrency: d.Currency}
	if p.CanApprove(actorTier(d.Actor), d.AmountCents) {
		c.Status, c.ApprovedBy, c.DecidedAt = tierflow.CompensationApproved, d.Actor.ID, timePtr(t.now)
		st.Compensation = append(st.Compensation, c)
		w.emit(t, tierflow.EventCompensationOK, d.Actor, func(ev *tierflow.CaseEvent) {
			ev.Summary, ev.Details = d.Description, details
			tag(ev)
		})
		return
	}
	c.Status = tierflow.CompensationPending
	st.Compensation = append(st.Compensation, c)
	required := p.LowestTierWithAuthority(d.AmountCents)
	ap := &tierflow.Approval{ID: fmt.Sprintf("apr-%d", seq), Compensation: c.ID, AmountCents: c.AmountCents,
		Currency: c.Currency, Description: c.Description, RequestedBy: d.Actor.ID, RequiredTier: required,
		RequestedAt: t.now}
	st.PendingApproval = ap
	w.startApprovalClock(t)
	w.pause(t, tierflow.StatusAwaitingApproval)
	details[tierflow.DetailApprovalID], details[tierflow.DetailRequiredTier] = ap.ID, itoa(int(required))
	w.emit(t, tierflow.EventApprovalRequested, d.Actor, func(ev *tierflow.CaseEvent) {
		ev.Summary, ev.Details = d.Description, details
		tag(ev)
	})
	w.mailApproval(t, seq)
	if t.patched(changeETAOnApprovalPause) {
		w.mailNewETA(t, seq, "Your case needs an internal approval before we can give you our answer.")
	}
}

// startApprovalClock runs the approval clock unless the request is already at the
// top of the ladder, where it has nowhere to climb.
func (w *caseWorkflow) startApprovalClock(t *transition) {
	ap := w.st.PendingApproval
	if ap.RequiredTier >= tierflow.TierExecutive {
		w.st.Clocks.Approval = nil
		ap.ExpiresAt = time.Time{} // no expiry at the top
		return
	}
	dl := w.in.Policy.ApprovalDeadline(t.now)
	w.st.Clocks.Approval = &dl
	ap.ExpiresAt = dl.At
}

// mailApproval emails the approval request to the staff of the required tier.
func (w *caseWorkflow) mailApproval(t *transition, seq int64) {
	ap := *w.st.PendingApproval
	w.mailStaff(t, seq, tierflow.MsgStaffApproval, []string{activities.StaffTier}, func(in *activities.NotifyStaffInput) {
		in.Tier = ap.RequiredTier
		in.Data.Approval = &ap
		in.Data.Reason = fmt.Sprintf("%s requested by %s: %s", money(ap.AmountCents, ap.Currency), ap.RequestedBy, ap.Description)
	})
}

// climbApproval moves an expired approval request one tier up.
func (w *caseWorkflow) climbApproval(t *transition) {
	ap := w.st.PendingApproval
	from := ap.RequiredTier
	ap.RequiredTier++
	w.startApprovalClock(t)
	w.st.LastDecision = fmt.Sprintf("approval %s climbed to tier %d", ap.ID, ap.RequiredTier)
	seq := w.emit(t, tierflow.EventApprovalClimbed, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = fmt.Sprintf("no decision from tier %d within %s", from, w.in.Policy.ApprovalTimeout)
		ev.Details = map[string]string{tierflow.DetailApprovalID: ap.ID, tierflow.DetailRequiredTier: itoa(int(ap.RequiredTier))}
	})
	w.mailApproval(t, seq)
}

// decideApproval grants or refuses the pending compensation; a case waiting on
// it resumes its tier clocks.
func (w *caseWorkflow) decideApproval(t *transition, d tierflow.Decision, tag eventTag) {
	st := w.st
	ap := st.PendingApproval
	status, evType := tierflow.CompensationApproved, tierflow.EventApproved
	if d.Action == tierflow.ActionReject {
		status, evType = tierflow.CompensationRejected, tierflow.EventRejected
	}
	for i := range st.Compensation {
		if c := &st.Compensation[i]; c.ID == ap.Compensation {
			c.Status, c.DecidedAt = status, timePtr(t.now)
			if status == tierflow.CompensationApproved {
				c.ApprovedBy = d.Actor.ID
			}
		}
	}
	st.PendingApproval, st.Clocks.Approval = nil, nil
	resumed := st.Status == tierflow.StatusAwaitingApproval
	if resumed {
		w.resume(t)
	}
	seq := w.emit(t, evType, d.Actor, func(ev *tierflow.CaseEvent) {
		ev.Reason = d.Note
		ev.Details = map[string]string{tierflow.DetailApprovalID: ap.ID, tierflow.DetailCompensationID: ap.Compensation,
			tierflow.DetailAmountCents: formatInt(ap.AmountCents), tierflow.DetailCurrency: ap.Currency}
		tag(ev)
	})
	if resumed && t.patched(changeETAOnApprovalPause) {
		w.mailNewETA(t, seq, "The internal approval your case was waiting for has been decided.")
	}
}

// mailNewETA tells the customer when to expect an answer now (no ETA while the
// tier clocks stand still); like any update, it restarts the update cadence.
func (w *caseWorkflow) mailNewETA(t *transition, seq int64, reason string) {
	w.restartCustomerUpdates(t)
	paused := w.st.Status.TierClocksPaused()
	w.mailCustomer(t, seq, tierflow.MsgETAChanged, func(m *tierflow.MessageData) {
		m.Reason = reason
		if paused {
			m.ETA = nil
		}
	})
}

// withdrawApproval settles the pending approval of a case that ends without a
// decision on it: the compensation is withdrawn (never offered), the approval
// clock stops, and the audit log says why.
func (w *caseWorkflow) withdrawApproval(t *transition, reason string) {
	st := w.st
	ap := st.PendingApproval
	for i := range st.Compensation {
		if c := &st.Compensation[i]; c.ID == ap.Compensation {
			c.Status, c.DecidedAt = tierflow.CompensationWithdrawn, timePtr(t.now)
		}
	}
	st.PendingApproval, st.Clocks.Approval = nil, nil
	w.emit(t, tierflow.EventApprovalWithdrawn, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = reason
		ev.Details = map[string]string{tierflow.DetailApprovalID: ap.ID, tierflow.DetailCompensationID: ap.Compensation,
			tierflow.DetailAmountCents: formatInt(ap.AmountCents), tierflow.DetailCurrency: ap.Currency}
	})
}
