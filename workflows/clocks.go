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
	fire  func(t *transition)
	// warning: a heads-up before a deadline, not a deadline (NextDeadline
	// leaves it out at codeDeadlineNotWarning).
	warning bool
}

// dueItems lists the case's pending instants in a fixed order (ties fire in it).
// Tier clocks are left out while paused; the close target never is.
func (w *caseWorkflow) dueItems() []dueItem {
	st, c := w.st, &w.st.Clocks
	if st.Closed() {
		return nil
	}
	var items []dueItem
	add := func(at time.Time, label string, fire func(t *transition)) {
		items = append(items, dueItem{at: at, label: label, fire: fire})
	}
	warn := func(at time.Time, label string, fire func(t *transition)) {
		items = append(items, dueItem{at: at, label: label, fire: fire, warning: true})
	}
	// From codeWarningOutbox the outbox sends the tier clocks' warnings; the
	// case does not wake for them (warnings.go).
	tierWarn := warn
	if w.in.Code >= codeWarningOutbox {
		tierWarn = func(time.Time, string, func(t *transition)) {}
	}
	if !st.Status.TierClocksPaused() {
		if dl := c.Acknowledge; dl != nil {
			if !c.AcknowledgeWarned && dl.WarnAt != nil {
				tierWarn(*dl.WarnAt, fmt.Sprintf("tier %d acknowledge warning", dl.Tier), w.warnAcknowledge)
			}
			add(dl.At, fmt.Sprintf("tier %d acknowledge deadline", dl.Tier), w.breachAcknowledge)
		}
		if dl := c.Resolve; dl != nil {
			if !c.ResolveWarned && dl.WarnAt != nil {
				tierWarn(*dl.WarnAt, fmt.Sprintf("tier %d resolve warning", dl.Tier), w.warnResolve)
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
			warn(*dl.WarnAt, "close target warning", w.warnCloseTarget)
		}
		if !st.CloseTargetBreached {
			add(c.CloseTarget.At, "close target", w.breachCloseTarget)
		}
	}
	// The same instants the case view explains (CaseState.deadlines).
	reminder, auto := st.waitingDeadlines(w.in.Policy)
	if reminder != nil {
		add(reminder.at, fmt.Sprintf("customer reminder %d", reminder.n), w.remindCustomer)
	}
	if auto != nil {
		add(auto.at, "auto-resolve without a customer reply", w.autoResolve)
	}
	send, remind, expiry := st.surveyDeadlines()
	if send != nil && st.SurveyOutboxSeq == 0 { // the outbox sends it, the case does not wake for it
		add(send.at, "survey send", w.sendSurvey)
	}
	if remind != nil {
		add(remind.at, "survey reminder", w.remindSurvey)
	}
	if expiry != nil {
		add(expiry.at, "survey expiry", w.expireSurvey)
	}
	return items
}

// nextDeadline is the nearest pending instant and its label (zero when none).
func (w *caseWorkflow) nextDeadline() (time.Time, string) {
	return w.nearest(false)
}

// nextDeadlineSA is the NextDeadline search attribute: the nearest pending
// instant, or from codeDeadlineNotWarning on the nearest that is not a warning
// (a warning moves no deadline, so it upserts nothing).
func (w *caseWorkflow) nextDeadlineSA() time.Time {
	at, _ := w.nearest(w.in.Code >= codeDeadlineNotWarning)
	return at
}

// nearest is the nearest pending instant and its label, warnings left out when
// skipWarnings.
func (w *caseWorkflow) nearest(skipWarnings bool) (time.Time, string) {
	var next dueItem
	for _, it := range w.dueItems() {
		if skipWarnings && it.warning {
			continue
		}
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

func (w *caseWorkflow) warnAcknowledge(t *transition) {
	w.sendWarning(t, w.acknowledgeWarning(*w.st.Clocks.Acknowledge))
}

func (w *caseWorkflow) warnResolve(t *transition) {
	w.sendWarning(t, w.resolveWarning(*w.st.Clocks.Resolve))
}

func (w *caseWorkflow) breachAcknowledge(t *transition) {
	dl := *w.st.Clocks.Acknowledge
	w.st.Clocks.Acknowledge = nil
	w.breach(t, dl, []string{activities.StaffQueue, activities.StaffSupervisor})
}

func (w *caseWorkflow) breachResolve(t *transition) {
	dl := *w.st.Clocks.Resolve
	w.st.Clocks.Resolve = nil
	w.breach(t, dl, append(w.ownerOrQueue(), activities.StaffSupervisor))
}

// breach records a missed tier clock and escalates one tier up. At tier 4 nobody
// is above to take the case: the executives are told and the clock starts again,
// each time for twice as long (at most a day), so an unattended case sends a
// bounded number of emails and keeps one breach entry per clock that counts the
// repeats; the customer gets a new ETA once the one they were given has passed.
func (w *caseWorkflow) breach(t *transition, dl tierflow.Deadline, groups []string) {
	st := w.st
	topRepeat := st.Tier == tierflow.TierExecutive && t.patched(changeTopTierBackoff)
	if topRepeat {
		st.Breaches = recordBreach(st.Breaches, tierflow.Breach{Clock: dl.Clock, Tier: st.Tier, At: dl.At}, st.Clocks.Repeats > 0)
	} else {
		st.Breaches = append(st.Breaches, tierflow.Breach{Clock: dl.Clock, Tier: st.Tier, At: dl.At})
	}
	reason := fmt.Sprintf("tier %d %s deadline missed", st.Tier, dl.Clock)
	st.LastDecision = reason
	if st.Tier == tierflow.TierExecutive {
		groups = append(groups, activities.StaffExecutive)
	}
	seq := w.emit(t, tierflow.EventBreach, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = reason
		ev.Details = map[string]string{tierflow.DetailClock: string(dl.Clock), tierflow.DetailDeadline: dl.At.UTC().Format(time.RFC3339)}
		if topRepeat && st.Clocks.Repeats > 0 {
			ev.Details[tierflow.DetailRepeat] = itoa(st.Clocks.Repeats) // the clock had started again this many times
		}
	})
	w.mailStaff(t, seq, tierflow.MsgStaffBreach, groups, func(in *activities.NotifyStaffInput) {
		in.Data.Clock, in.Data.Deadline, in.Data.Reason = dl.Clock, timePtr(dl.At), reason
	})
	switch {
	case st.Tier < tierflow.TierExecutive:
		w.handOver(t, handover{to: st.Tier + 1, department: st.Department, event: tierflow.EventEscalated,
			actor: tierflow.SystemActor, mode: "automatic", reason: reason})
	case topRepeat:
		w.repeatTopTierClock(t, dl.Clock, seq)
	case t.patched(changeRearmTopTierClock):
		w.rearmTopTierClock(t, dl.Clock)
	}
}

// recordBreach adds b to the case's breaches; the breach of a clock that was
// started again after its own breach (repeat) counts in that clock's entry, the
// last one, instead of adding one. A fresh clock's first breach (after a
// transfer, a reopen) is an entry of its own.
func recordBreach(breaches []tierflow.Breach, b tierflow.Breach, repeat bool) []tierflow.Breach {
	if n := len(breaches); repeat && n > 0 {
		if e := &breaches[n-1]; e.Clock == b.Clock && e.Tier == b.Tier {
			e.Repeats++
			e.LastAt = timePtr(b.At)
			return breaches
		}
	}
	return append(breaches, b)
}

// repeatTopTierClock starts a missed tier-4 clock again with a doubled period
// (Policy.RepeatDeadline: at most a day) and its warning; when the customer's
// ETA has passed, they get a new one with an apology.
func (w *caseWorkflow) repeatTopTierClock(t *transition, clock tierflow.Clock, seq int64) {
	c := &w.st.Clocks
	c.Repeats++
	next := w.in.Policy.RepeatDeadline(clock, w.in.Request.Priority, tierflow.TierExecutive, c.Repeats, t.now)
	if clock == tierflow.ClockResolve {
		c.Resolve, c.ResolveWarned = &next, false
	} else {
		c.Acknowledge, c.AcknowledgeWarned = &next, false
	}
	if c.Answer != nil && !c.Answer.At.Before(next.At) {
		return // the promise still holds past the clock's next deadline
	}
	c.Answer = w.renewedAnswer(t, next)
	w.mailNewETA(t, seq, "We are sorry: your case is taking longer than we told you.")
}

// renewedAnswer is the customer's new ETA after a tier-4 breach: the tier's
// promise from now, and no earlier than the clock's next deadline.
func (w *caseWorkflow) renewedAnswer(t *transition, next tierflow.Deadline) *tierflow.Deadline {
	answer := w.in.Policy.AnswerDeadline(w.in.Request.Priority, w.st.Tier, w.st.Acknowledged, t.now)
	if answer.At.Before(next.At) {
		answer = next
		answer.Clock, answer.WarnAt = tierflow.ClockAnswer, nil
		answer.Detail = "the tier-4 clock's next deadline, after a breach"
		answer.Explanation = w.in.Policy.Explain(answer)
	}
	return &answer
}

// rearmTopTierClock is the repeat of histories from before changeTopTierBackoff:
// the same period again, no warning.
func (w *caseWorkflow) rearmTopTierClock(t *transition, clock tierflow.Clock) {
	next := w.in.Policy.TierDeadline(clock, w.in.Request.Priority, tierflow.TierExecutive, t.now)
	if clock == tierflow.ClockResolve {
		w.st.Clocks.Resolve = &next
	} else {
		w.st.Clocks.Acknowledge = &next
	}
	// State only (these runs send nothing more): the ETA their emails carry is
	// never left behind the clock.
	if a := w.st.Clocks.Answer; a == nil || a.At.Before(next.At) {
		w.st.Clocks.Answer = w.renewedAnswer(t, next)
	}
}

func (w *caseWorkflow) sendProgressUpdate(t *transition) {
	w.restartCustomerUpdates(t)
	seq := w.emit(t, tierflow.EventCustomerUpdated, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = "automatic progress update"
		ev.CustomerMessage = "We are still working on your case."
	})
	w.mailCustomer(t, seq, tierflow.MsgProgressUpdate, nil)
}

func (w *caseWorkflow) warnCloseTarget(t *transition) {
	dl := w.st.Clocks.CloseTarget
	w.st.Clocks.CloseTargetWarned = true
	seq := w.emit(t, tierflow.EventCloseTargetWarning, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = warningDetails(tierflow.ClockCloseTarget, dl.At)
	})
	w.mailStaff(t, seq, tierflow.MsgStaffCloseTarget, []string{activities.StaffSupervisor, activities.StaffExecutive},
		func(in *activities.NotifyStaffInput) {
			in.Data.Clock, in.Data.Deadline = tierflow.ClockCloseTarget, timePtr(dl.At)
		})
}

// breachCloseTarget flags the missed promise, and hands the case to tier 4 when it
// is below: paused or not, the customer has waited too long.
func (w *caseWorkflow) breachCloseTarget(t *transition) {
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
		w.handOver(t, handover{to: tierflow.TierExecutive, department: st.Department, event: tierflow.EventEscalated,
			actor: tierflow.SystemActor, mode: "automatic", reason: reason})
	}
}

func (w *caseWorkflow) remindCustomer(t *transition) {
	c := &w.st.Clocks
	c.RemindersSent++
	seq := w.emit(t, tierflow.EventReminderSent, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(tierflow.ClockAwaitCustomer), tierflow.DetailReminder: itoa(c.RemindersSent)}
	})
	w.mailCustomer(t, seq, tierflow.MsgWaitingReminder, nil)
}

// autoResolve ends a case whose customer never answered: resolved and closed, no survey.
func (w *caseWorkflow) autoResolve(t *transition) {
	st := w.st
	w.stopClocks()
	w.moveTo(t, tierflow.StatusResolved)
	st.ResolvedAt = timePtr(t.now)
	st.Resolution = "closed for lack of a reply"
	st.LastDecision = "auto-resolved: no customer reply"
	seq := w.emit(t, tierflow.EventAutoResolved, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = fmt.Sprintf("no reply within %s", w.in.Policy.AwaitingCustomer.AutoResolveAfter)
	})
	w.mailCustomer(t, seq, tierflow.MsgAutoResolved, func(m *tierflow.MessageData) { m.ETA = nil })
	w.closeCase(t, tierflow.SystemActor, "auto-resolved without a customer reply", nil)
}
