package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// a is the typed nil through which the workflow names its activities.
var a *activities.Activities

// retryPolicy retries side effects with backoff until they succeed: a case must
// not lose an audit event or an email because a dependency was down for a while.
var retryPolicy = &temporal.RetryPolicy{
	InitialInterval:        time.Second,
	BackoffCoefficient:     2,
	MaximumInterval:        5 * time.Minute,
	NonRetryableErrorTypes: []string{activities.ErrTypeEmailRejected, activities.ErrTypeInvalidInput},
}

func activityCtx(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         retryPolicy,
		Summary:             truncate(summary, 200),
	})
}

// transition is one change of the case: the events that describe it and the
// emails it sends, gathered while the state changes under the mutex, then
// handed to commit, which records the events and starts the emails. Everything
// a change does is written in its transition function; commit adds nothing.
type transition struct {
	w      *caseWorkflow
	ctx    workflow.Context
	now    time.Time
	events []tierflow.CaseEvent
	mails  []mail
	// cancelEmails are earlier outbox batches of the case this transition
	// withdraws (a survey scheduled through the outbox, cancelled before its
	// send time): its record carries them (Transition.CancelEmails).
	cancelEmails []int64
}

// mail is one customer or staff notification of a transition.
type mail struct {
	summary  string
	customer *activities.NotifyCustomerInput
	staff    *activities.NotifyStaffInput
	// notBefore, when set, schedules the mail: it is an outbox batch of its
	// own, named by the event that caused it (seq), not delivered before
	// notBefore, and withdrawn if a later transition cancels it.
	notBefore *time.Time
	seq       int64
}

// begin starts a transition. Every transition first records what happened
// without the case since the last one: the warnings (catchUpWarnings) and the
// survey (catchUpSurvey) the outbox sent.
// A begun transition is committed, even when it changes nothing else, so that
// what begin recorded is never dropped.
func (w *caseWorkflow) begin(ctx workflow.Context) *transition {
	t := &transition{w: w, ctx: ctx, now: workflow.Now(ctx)}
	w.catchUpWarnings(t)
	w.catchUpSurvey(t)
	return t
}

// patched reports whether the change changeID (see "Versioning" in doc.go) applies
// to this run: always for new runs, never when replaying a history recorded before
// it. Call it only where the behaviour differs, so a run pays its marker only when
// it gets there.
func (t *transition) patched(changeID string) bool {
	return t.w.patched(t.ctx, changeID)
}

// patched reports whether the change changeID applies to this run (see
// transition.patched); a run with changeLeanHistory has every change older than
// it without asking.
func (w *caseWorkflow) patched(ctx workflow.Context, changeID string) bool {
	if w.lean && impliedByLeanHistory[changeID] {
		return true
	}
	return workflow.GetVersion(ctx, changeID, workflow.DefaultVersion, 1) == 1
}

// emit appends an event stamped with the state as it is now (call it after the
// state change it describes) and returns its sequence number.
func (w *caseWorkflow) emit(t *transition, typ tierflow.EventType, actor tierflow.Principal, fill func(*tierflow.CaseEvent)) int64 {
	w.st.Seq++
	ev := tierflow.CaseEvent{CaseID: w.st.CaseID, Seq: w.st.Seq, Type: typ, At: t.now, Actor: actor,
		Tier: w.st.Tier, Status: w.st.Status, Department: w.st.Department}
	if fill != nil {
		fill(&ev)
	}
	t.events = append(t.events, ev)
	return ev.Seq
}

// messageData is the common part of every message of this case.
func (w *caseWorkflow) messageData() tierflow.MessageData {
	tp := w.in.Policy.TierPolicy(w.st.Tier)
	r := w.in.Request
	return tierflow.MessageData{CaseID: w.st.CaseID, Reference: r.ExternalID, Subject: r.Subject,
		CustomerName: r.Customer.Name, Locale: r.Customer.Locale, Tier: w.st.Tier, TierName: tp.Name,
		Team: tp.Team, Department: w.st.Department, ETA: w.st.eta(), AnswerWithin: w.answerWithin(),
		WaitingFor: w.waitingFor()}
}

// answerWithin is how long the answer will take once a paused case stops waiting:
// what remained of the customer's promise when the clocks stopped.
func (w *caseWorkflow) answerWithin() string {
	st := w.st
	if !st.Status.TierClocksPaused() || st.PausedAt == nil {
		return ""
	}
	promise := st.Clocks.Answer
	if promise == nil {
		promise = st.Clocks.Resolve
	}
	if promise == nil {
		return ""
	}
	return w.in.Policy.RemainingSpan(*promise, *st.PausedAt)
}

// waitingFor names what a paused case waits for ("customer", "approval").
func (w *caseWorkflow) waitingFor() string {
	switch w.st.Status {
	case tierflow.StatusAwaitingCustomer:
		return "customer"
	case tierflow.StatusAwaitingApproval:
		return "approval"
	}
	return ""
}

func (w *caseWorkflow) key(seq int64, kind tierflow.MessageKind) string {
	return fmt.Sprintf("%s/%d/%s", w.st.CaseID, seq, kind)
}

// mailCustomer queues a customer email caused by event seq.
func (w *caseWorkflow) mailCustomer(t *transition, seq int64, kind tierflow.MessageKind, edit func(*tierflow.MessageData)) {
	data := w.messageData()
	if edit != nil {
		edit(&data)
	}
	what := string(kind)
	if kind == tierflow.MsgEscalated {
		what = "escalated to " + w.handler()
	}
	t.mails = append(t.mails, mail{summary: "email customer: " + what,
		customer: &activities.NotifyCustomerInput{Key: w.key(seq, kind), CaseID: w.st.CaseID, Kind: kind,
			Customer: w.in.Request.Customer, Data: data}})
}

// mailCustomerAt queues a customer email caused by event seq to go out at at,
// through the outbox, without waking the case (mail.notBefore).
func (w *caseWorkflow) mailCustomerAt(t *transition, seq int64, kind tierflow.MessageKind, at time.Time, edit func(*tierflow.MessageData)) {
	w.mailCustomer(t, seq, kind, edit)
	t.scheduleLastMail(seq, at)
}

// scheduleLastMail makes t's last queued mail a scheduled one, caused by event
// seq, to go out at at through the outbox (mail.notBefore).
func (t *transition) scheduleLastMail(seq int64, at time.Time) {
	m := &t.mails[len(t.mails)-1]
	m.notBefore, m.seq = timePtr(at), seq
	m.summary += " at " + at.UTC().Format(time.RFC3339)
}

// mailStaff queues a staff email caused by event seq to the recipient groups.
func (w *caseWorkflow) mailStaff(t *transition, seq int64, kind tierflow.MessageKind, groups []string, edit func(*activities.NotifyStaffInput)) {
	in := &activities.NotifyStaffInput{Key: w.key(seq, kind), CaseID: w.st.CaseID, Kind: kind, Groups: groups,
		Tier: w.st.Tier, Department: w.st.Department, AssigneeID: w.st.Assignee, Queues: w.queues(),
		Data: w.messageData()}
	if edit != nil {
		edit(in)
	}
	t.mails = append(t.mails, mail{summary: fmt.Sprintf("email staff (%s): %s, tier %d", strings.Join(groups, ", "), kind, in.Tier),
		staff: in})
}

// handler names who handles the case, for summaries ("billing specialists, tier 2").
func (w *caseWorkflow) handler() string {
	if w.st.Department != "" {
		return fmt.Sprintf("%s (tier %d)", w.st.Department, w.st.Tier)
	}
	return fmt.Sprintf("tier %d %s", w.st.Tier, w.in.Policy.TierPolicy(w.st.Tier).Name)
}

func (w *caseWorkflow) queues() map[tierflow.Tier]string {
	q := make(map[tierflow.Tier]string, 4)
	for t := tierflow.TierFrontline; t <= tierflow.TierExecutive; t++ {
		q[t] = w.in.Policy.TierPolicy(t).Queue
	}
	return q
}

// commit hands what the transition emitted to the record (RecordTransition: its
// events and the new view, in order, see record.go) and starts its emails; it
// shows the new state to operators (search attributes, current details). Emails
// finish in the background (the workflow waits for them before it ends). Since
// changeEmailOutbox the emails go with the record into the outbox (the mailer
// delivers them; the case does not wait for them).
func (w *caseWorkflow) commit(ctx workflow.Context, t *transition) {
	w.syncWarnings(t)
	if len(t.events) == 0 {
		return
	}
	view := w.view(ctx)
	w.publish(ctx, view)
	if !w.recordAsync {
		w.recordNow(ctx, t.events, view, t.mails)
		return
	}
	if w.outbox.enabled {
		w.record(ctx, pendingRecord{events: t.events, view: view, mails: outboxMails(t), cancel: t.cancelEmails})
		return
	}
	w.record(ctx, pendingRecord{events: t.events, view: view})
	if w.lean {
		w.sendAll(ctx, t.mails)
		return
	}
	for _, m := range t.mails {
		w.send(ctx, m)
	}
}

// assignOwner asks the staff directory for the tier's proposed owner, records it
// (an assigned event) and tells the owner or the tier's queue. It is a local
// activity (a quick read; one marker event instead of a round trip), run inside
// the transition that hands the case over, and never holds a case up: when the
// directory cannot answer, the tier's queue owns the case.
func (w *caseWorkflow) assignOwner(t *transition, reason string) {
	ctx := t.ctx
	tp := w.in.Policy.TierPolicy(w.st.Tier)
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy:            retryPolicy,
		Summary:                truncate("assign owner: "+w.handler(), 200),
	})
	var res activities.AssignOwnerResult
	err := workflow.ExecuteLocalActivity(lctx, a.AssignOwner, activities.AssignOwnerInput{CaseID: w.st.CaseID,
		Tier: w.st.Tier, Department: w.st.Department, QueueAddress: tp.Queue}).Get(ctx, &res)
	if err != nil {
		workflow.GetLogger(ctx).Warn("assign owner failed; the tier's queue owns the case", "case_id", w.st.CaseID, "error", err)
		res = activities.AssignOwnerResult{}
	}
	w.st.Assignee = res.AssigneeID
	owner := res.AssigneeID
	if owner == "" {
		owner = "queue " + tp.Queue
	}
	seq := w.emit(t, tierflow.EventAssigned, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = reason
		ev.Details = map[string]string{tierflow.DetailAssignee: res.AssigneeID, tierflow.DetailOwner: owner}
	})
	groups := []string{activities.StaffQueue}
	if res.AssigneeID != "" {
		groups = []string{activities.StaffOwner}
	}
	w.mailStaff(t, seq, tierflow.MsgStaffAssignment, groups, func(in *activities.NotifyStaffInput) {
		in.Data.Reason = reason
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-3]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s + "..."
}
