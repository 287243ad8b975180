package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// dueItem is one pending instant of the case and what happens when it comes.
type dueItem struct {
	at    time.Time
	label string // the timer summary shown in the Temporal UI
	fire  func(t *tx)
}

// dueItems lists the case's pending instants in a fixed order (ties fire in it).
// Tier clocks are left out while paused; the close target never is.
func (w *caseWorkflow) dueItems() []dueItem {
	st, c := w.st, &w.st.Clocks
	if st.Closed() {
		return nil
	}
	var items []dueItem
	add := func(at time.Time, label string, fire func(t *tx)) {
		items = append(items, dueItem{at: at, label: label, fire: fire})
	}
	if !st.Status.TierClocksPaused() {
		if dl := c.Acknowledge; dl != nil {
			if !c.AcknowledgeWarned && dl.WarnAt != nil {
				add(*dl.WarnAt, fmt.Sprintf("tier %d acknowledge warning", dl.Tier), w.warnAcknowledge)
			}
			add(dl.At, fmt.Sprintf("tier %d acknowledge deadline", dl.Tier), w.breachAcknowledge)
		}
		if dl := c.Resolve; dl != nil {
			if !c.ResolveWarned && dl.WarnAt != nil {
				add(*dl.WarnAt, fmt.Sprintf("tier %d resolve warning", dl.Tier), w.warnResolve)
			}
			add(dl.At, fmt.Sprintf("tier %d resolve deadline", dl.Tier), w.breachResolve)
		}
	}
	if dl := c.CustomerUpdate; dl != nil && st.Status != tierflow.StatusAwaitingCustomer && st.Status != tierflow.StatusResolved {
		add(dl.At, "next customer progress update", w.sendProgressUpdate)
	}
	if dl := c.Approval; dl != nil && st.PendingApproval != nil {
		add(dl.At, fmt.Sprintf("approval %s expiry at tier %d", st.PendingApproval.ID, st.PendingApproval.RequiredTier), w.climbApproval)
	}
	if st.closeTargetRunning() {
		if dl := c.CloseTarget; !c.CloseTargetWarned && dl.WarnAt != nil {
			add(*dl.WarnAt, "close target warning", w.warnCloseTarget)
		}
		if !st.CloseTargetBreached {
			add(c.CloseTarget.At, "close target", w.breachCloseTarget)
		}
	}
	if st.Status == tierflow.StatusAwaitingCustomer && c.InfoRequestedAt != nil {
		ac := w.in.Policy.AwaitingCustomer
		auto := c.InfoRequestedAt.Add(ac.AutoResolveAfter.Duration)
		if c.RemindersSent < len(ac.Reminders) {
			if r := c.InfoRequestedAt.Add(ac.Reminders[c.RemindersSent].Duration); r.Before(auto) {
				add(r, fmt.Sprintf("customer reminder %d", c.RemindersSent+1), w.remindCustomer)
			}
		}
		add(auto, "auto-resolve without a customer reply", w.autoResolve)
	}
	if s := st.Survey; s != nil {
		switch s.Status {
		case tierflow.SurveyScheduled:
			add(*s.SendAt, "survey send", w.sendSurvey)
		case tierflow.SurveySent:
			if c.SurveyRemindAt != nil {
				add(*c.SurveyRemindAt, "survey reminder", w.remindSurvey)
			}
			add(*s.ExpiresAt, "survey expiry", w.expireSurvey)
		}
	}
	return items
}

// nextDeadline is the nearest pending instant and its label (zero when none).
func (w *caseWorkflow) nextDeadline() (time.Time, string) {
	var next dueItem
	for _, it := range w.dueItems() {
		if next.at.IsZero() || it.at.Before(next.at) {
			next = it
		}
	}
	return next.at, next.label
}

// processDue fires every instant that has come, earliest first, one transition
// each (the caller holds mu). The bound only guards against a bug looping.
func (w *caseWorkflow) processDue(ctx workflow.Context) {
	for range 64 {
		now := workflow.Now(ctx)
		var due *dueItem
		for _, it := range w.dueItems() {
			if !it.at.After(now) && (due == nil || it.at.Before(due.at)) {
				due = &it
			}
		}
		if due == nil {
			return
		}
		t := w.begin(ctx)
		due.fire(t)
		w.commit(ctx, t)
	}
	workflow.GetLogger(ctx).Error("too many due instants in one turn", "case_id", w.st.CaseID)
}

func (w *caseWorkflow) warnAcknowledge(t *tx) {
	w.st.Clocks.AcknowledgeWarned = true
	w.warn(t, *w.st.Clocks.Acknowledge, []string{activities.StaffQueue, activities.StaffSupervisor})
}

func (w *caseWorkflow) warnResolve(t *tx) {
	w.st.Clocks.ResolveWarned = true
	w.warn(t, *w.st.Clocks.Resolve, append(w.ownerOrQueue(), activities.StaffSupervisor))
}

// warn tells staff a tier clock is about to run out.
func (w *caseWorkflow) warn(t *tx, dl tierflow.Deadline, groups []string) {
	seq := w.emit(t, tierflow.EventWarning, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(dl.Clock), tierflow.DetailDeadline: dl.At.UTC().Format(time.RFC3339)}
	})
	w.mailStaff(t, seq, tierflow.MsgStaffWarning, groups, func(in *activities.NotifyStaffInput) {
		in.Data.Clock, in.Data.Deadline = dl.Clock, timePtr(dl.At)
	})
}

func (w *caseWorkflow) breachAcknowledge(t *tx) {
	dl := *w.st.Clocks.Acknowledge
	w.st.Clocks.Acknowledge = nil
	w.breach(t, dl, []string{activities.StaffQueue, activities.StaffSupervisor})
}

func (w *caseWorkflow) breachResolve(t *tx) {
	dl := *w.st.Clocks.Resolve
	w.st.Clocks.Resolve = nil
	w.breach(t, dl, append(w.ownerOrQueue(), activities.StaffSupervisor))
}

// breach records a missed tier clock and escalates one tier up; at tier 4 the
// executives are told and the case stays where it is.
func (w *caseWorkflow) breach(t *tx, dl tierflow.Deadline, groups []string) {
	st := w.st
	st.Breaches = append(st.Breaches, tierflow.Breach{Clock: dl.Clock, Tier: st.Tier, At: dl.At})
	reason := fmt.Sprintf("tier %d %s deadline missed", st.Tier, dl.Clock)
	st.LastDecision = reason
	if st.Tier == tierflow.TierExecutive {
		groups = append(groups, activities.StaffExecutive)
	}
	seq := w.emit(t, tierflow.EventBreach, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = reason
		ev.Details = map[string]string{tierflow.DetailClock: string(dl.Clock), tierflow.DetailDeadline: dl.At.UTC().Format(time.RFC3339)}
	})
	w.mailStaff(t, seq, tierflow.MsgStaffBreach, groups, func(in *activities.NotifyStaffInput) {
		in.Data.Clock, in.Data.Deadline, in.Data.Reason = dl.Clock, timePtr(dl.At), reason
	})
	if st.Tier < tierflow.TierExecutive {
		w.enterTier(t, st.Tier+1, st.Department, tierflow.EventEscalated, tierflow.SystemActor, "automatic", reason, "", nil)
		return
	}
	if t.patched(changeRearmTopTierClock) {
		w.rearmTopTierClock(t, dl.Clock)
	}
}

// rearmTopTierClock starts a missed tier-4 clock again: nobody is above the
// executives to take the case, so the case must not sit without a running clock.
// They are told again at every period; the customer hears at the update cadence,
// whose emails carry the new time.
func (w *caseWorkflow) rearmTopTierClock(t *tx, clock tierflow.Clock) {
	next := w.in.Policy.TierDeadline(clock, w.in.Request.Priority, tierflow.TierExecutive, t.now)
	if clock == tierflow.ClockResolve {
		w.st.Clocks.Resolve = &next
	} else {
		w.st.Clocks.Acknowledge = &next
	}
}

func (w *caseWorkflow) sendProgressUpdate(t *tx) {
	w.restartCustomerUpdates(t)
	seq := w.emit(t, tierflow.EventCustomerUpdated, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = "automatic progress update"
		ev.CustomerMessage = "We are still working on your case."
	})
	w.mailCustomer(t, seq, tierflow.MsgProgressUpdate, nil)
}

func (w *caseWorkflow) warnCloseTarget(t *tx) {
	dl := w.st.Clocks.CloseTarget
	w.st.Clocks.CloseTargetWarned = true
	seq := w.emit(t, tierflow.EventCloseTargetWarning, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(tierflow.ClockCloseTarget), tierflow.DetailDeadline: dl.At.UTC().Format(time.RFC3339)}
	})
	w.mailStaff(t, seq, tierflow.MsgStaffCloseTarget, []string{activities.StaffSupervisor, activities.StaffExecutive},
		func(in *activities.NotifyStaffInput) {
			in.Data.Clock, in.Data.Deadline = tierflow.ClockCloseTarget, timePtr(dl.At)
		})
}

// breachCloseTarget flags the missed promise, and hands the case to tier 4 when it
// is below: paused or not, the customer has waited too long.
func (w *caseWorkflow) breachCloseTarget(t *tx) {
	st, dl := w.st, w.st.Clocks.CloseTarget
	st.CloseTargetBreached = true
	reason := fmt.Sprintf("close target of %s from opening missed", dl.Duration)
	st.LastDecision = reason
	seq := w.emit(t, tierflow.EventCloseTargetBreach, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = reason
		ev.Details = map[string]string{tierflow.DetailClock: string(tierflow.ClockCloseTarget), tierflow.DetailDeadline: dl.At.UTC().Format(time.RFC3339)}
	})
	w.mailStaff(t, seq, tierflow.MsgStaffCloseTarget, []string{activities.StaffExecutive}, func(in *activities.NotifyStaffInput) {
		in.Data.Clock, in.Data.Deadline, in.Data.Reason = tierflow.ClockCloseTarget, timePtr(dl.At), reason
	})
	if st.Tier < tierflow.TierExecutive {
		w.enterTier(t, tierflow.TierExecutive, st.Department, tierflow.EventEscalated, tierflow.SystemActor, "automatic", reason, "", nil)
	}
}

func (w *caseWorkflow) remindCustomer(t *tx) {
	c := &w.st.Clocks
	c.RemindersSent++
	seq := w.emit(t, tierflow.EventReminderSent, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(tierflow.ClockAwaitCustomer), tierflow.DetailReminder: itoa(c.RemindersSent)}
	})
	w.mailCustomer(t, seq, tierflow.MsgWaitingReminder, nil)
}

// autoResolve ends a case whose customer never answered: resolved and closed, no survey.
func (w *caseWorkflow) autoResolve(t *tx) {
	st := w.st
	w.stopClocks()
	st.Status, st.ResolvedAt = tierflow.StatusResolved, timePtr(t.now)
	st.Resolution = "closed for lack of a reply"
	st.LastDecision = "auto-resolved: no customer reply"
	seq := w.emit(t, tierflow.EventAutoResolved, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = fmt.Sprintf("no reply within %s", w.in.Policy.AwaitingCustomer.AutoResolveAfter)
	})
	w.mailCustomer(t, seq, tierflow.MsgAutoResolved, func(m *tierflow.MessageData) { m.ETA = nil })
	w.closeCase(t, tierflow.SystemActor, "auto-resolved without a customer reply", nil)
}
