package simulate

import (
	"maps"
	"slices"
	"time"

	"github.com/tierflow/tierflow"
)

// Counters are what a set of case runs did. The recorded run and the simulated
// one are counted by the same function from the same event types, so both sides
// carry the same names.
type Counters struct {
	Cases int `json:"cases"`
	// Breaches counts missed tier clocks by "tier_<n>.<clock>" (tier at the miss).
	Breaches             map[string]int `json:"breaches"`
	BreachesTotal        int            `json:"breaches_total"`
	AutomaticEscalations int            `json:"automatic_escalations"`
	// Warnings are pre-breach warnings of tier clocks and of the close target.
	Warnings       int `json:"warnings"`
	StaffEmails    int `json:"staff_emails"`
	CustomerEmails int `json:"customer_emails"`
	// PastCloseTarget counts cases whose close target was missed.
	PastCloseTarget int `json:"past_close_target"`
	// AutoResolved counts cases closed for lack of a customer reply.
	AutoResolved int `json:"auto_resolved"`
}

// staffEmailEvents are the events whose transition emails staff (one message
// each): warnings, breaches, the owner's assignment, reassignments.
var staffEmailEvents = map[tierflow.EventType]bool{
	tierflow.EventWarning: true, tierflow.EventBreach: true, tierflow.EventAssigned: true,
	tierflow.EventCloseTargetWarning: true, tierflow.EventCloseTargetBreach: true, tierflow.EventReassigned: true,
}

// customerEmailEvents are the events whose transition emails the customer (one
// message each); a reply and a reopen are decided by their neighbours (below).
var customerEmailEvents = map[tierflow.EventType]bool{
	tierflow.EventOpened: true, tierflow.EventEscalated: true, tierflow.EventTransferred: true,
	tierflow.EventCustomerUpdated: true, tierflow.EventInfoRequested: true, tierflow.EventReminderSent: true,
	tierflow.EventAutoResolved: true, tierflow.EventResolved: true, tierflow.EventSurveySent: true,
}

// CountEvents counts one case's audit log. A customer reply emails the customer
// (a new ETA) only when it resumed a waiting case; a reopen at the same tier
// emails the customer and the owner, while a reopen at a higher tier leaves that
// to the hand-over that follows it.
func CountEvents(evs []tierflow.CaseEvent) Counters {
	c := Counters{Cases: 1, Breaches: map[string]int{}}
	for i, ev := range evs {
		switch ev.Type {
		case tierflow.EventBreach:
			c.Breaches[tierClockKey(ev.Tier, tierflow.Clock(ev.Details[tierflow.DetailClock]))]++
			c.BreachesTotal++
		case tierflow.EventEscalated:
			if ev.Details[tierflow.DetailMode] == "automatic" {
				c.AutomaticEscalations++
			}
		case tierflow.EventCloseTargetBreach:
			c.PastCloseTarget = 1
		case tierflow.EventAutoResolved:
			c.AutoResolved = 1
		}
		if ev.Type == tierflow.EventWarning || ev.Type == tierflow.EventCloseTargetWarning {
			c.Warnings++
		}
		if staffEmailEvents[ev.Type] {
			c.StaffEmails++
		}
		if customerEmailEvents[ev.Type] {
			c.CustomerEmails++
		}
		switch ev.Type {
		case tierflow.EventCustomerReplied:
			if i > 0 && evs[i-1].Status == tierflow.StatusAwaitingCustomer {
				c.CustomerEmails++
			}
		case tierflow.EventReopened:
			if !reopenHandsOver(evs, i) {
				c.CustomerEmails++
				c.StaffEmails++
			}
		}
	}
	return c
}

// withSentSurveys is a recorded log with the survey_sent events its case has not
// recorded yet. A survey scheduled through the email outbox (survey_scheduled,
// Details[DetailSendAt]) goes out at its send time without the case, which
// records survey_sent, stamped with that time, only at its next step; one that
// a reopen or close came before is withdrawn. So a survey_scheduled that no
// survey_sent, reopened or closed follows went out if its send time is at or
// before asOf: its survey_sent is added, as the simulation (which sends at the
// send time) has it. evs is not changed.
func withSentSurveys(evs []tierflow.CaseEvent, asOf time.Time) []tierflow.CaseEvent {
	var pending *tierflow.CaseEvent
	for i, ev := range evs {
		switch ev.Type {
		case tierflow.EventSurveyScheduled:
			pending = &evs[i]
		case tierflow.EventSurveySent, tierflow.EventReopened, tierflow.EventClosed:
			pending = nil
		}
	}
	if pending == nil {
		return evs
	}
	sendAt, err := time.Parse(time.RFC3339, pending.Details[tierflow.DetailSendAt])
	if err != nil || sendAt.After(asOf) {
		return evs
	}
	sent := tierflow.CaseEvent{CaseID: pending.CaseID, Seq: evs[len(evs)-1].Seq + 1, Type: tierflow.EventSurveySent,
		At: sendAt, Actor: tierflow.SystemActor, Tier: pending.Tier, Status: pending.Status, Department: pending.Department}
	return append(slices.Clip(evs), sent)
}

// clockChanges are the events after which a warning written into the outbox
// (warning_scheduled) is no longer pending: its clock stopped, paused or
// restarted, or the warning was written again (a reassignment, a migration).
var clockChanges = map[tierflow.EventType]bool{
	tierflow.EventAcknowledged: true, tierflow.EventEscalated: true, tierflow.EventTransferred: true,
	tierflow.EventInfoRequested: true, tierflow.EventApprovalRequested: true, tierflow.EventResolved: true,
	tierflow.EventClosed: true, tierflow.EventAutoResolved: true, tierflow.EventPolicyMigrated: true,
	tierflow.EventReassigned: true,
}

// withReleasedWarnings is a recorded log with the deadline_warning events its
// case has not recorded yet. From code level 4 a tier clock's warning waits in
// the email outbox (warning_scheduled, Details[DetailSendAt]) and goes out at
// its send time without the case, which records deadline_warning, stamped with
// that time, only at its next step; an event that changes its clock first
// withdraws it. So a warning_scheduled that no deadline_warning of its clock and
// no such event follows went out if its send time is at or before asOf: its
// deadline_warning is added, as the simulation (which warns at the send time)
// has it. evs is not changed.
func withReleasedWarnings(evs []tierflow.CaseEvent, asOf time.Time) []tierflow.CaseEvent {
	pending := map[string]*tierflow.CaseEvent{}
	for i, ev := range evs {
		switch {
		case ev.Type == tierflow.EventWarningScheduled:
			pending[ev.Details[tierflow.DetailClock]] = &evs[i]
		case ev.Type == tierflow.EventWarning:
			delete(pending, ev.Details[tierflow.DetailClock])
		case clockChanges[ev.Type]:
			clear(pending)
		}
	}
	out := evs
	for _, clock := range []tierflow.Clock{tierflow.ClockAcknowledge, tierflow.ClockResolve} {
		w := pending[string(clock)]
		if w == nil {
			continue
		}
		sendAt, err := time.Parse(time.RFC3339, w.Details[tierflow.DetailSendAt])
		if err != nil || sendAt.After(asOf) {
			continue
		}
		out = append(slices.Clip(out), tierflow.CaseEvent{CaseID: w.CaseID, Seq: out[len(out)-1].Seq + 1,
			Type: tierflow.EventWarning, At: sendAt, Actor: tierflow.SystemActor, Tier: w.Tier, Status: w.Status,
			Department: w.Department, Details: map[string]string{tierflow.DetailClock: string(clock),
				tierflow.DetailDeadline: w.Details[tierflow.DetailDeadline]}})
	}
	return out
}

// Add sums o into c.
func (c *Counters) Add(o Counters) {
	if c.Breaches == nil {
		c.Breaches = map[string]int{}
	}
	c.Cases += o.Cases
	for k, n := range o.Breaches {
		c.Breaches[k] += n
	}
	c.BreachesTotal += o.BreachesTotal
	c.AutomaticEscalations += o.AutomaticEscalations
	c.Warnings += o.Warnings
	c.StaffEmails += o.StaffEmails
	c.CustomerEmails += o.CustomerEmails
	c.PastCloseTarget += o.PastCloseTarget
	c.AutoResolved += o.AutoResolved
}

// breachKeys are the breach keys of both sides, sorted.
func breachKeys(a, b Counters) []string {
	m := maps.Clone(a.Breaches)
	if m == nil {
		m = map[string]int{}
	}
	maps.Copy(m, b.Breaches)
	return sortedKeys(m)
}
