package workflows

import (
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// A transition's emails leave through commit: with changeEmailOutbox, in its
// record, into the outbox that the Mailer workflow delivers (a problem comes back
// as SignalNotificationProblems); before it, all of them in one Notify activity
// (sendAll), or, in runs from before changeLeanHistory, one NotifyCustomer or
// NotifyStaff activity each (send). Either way each message is sent at most once
// per its key, and an email that failed or went unconfirmed goes on the case's
// record.

// send starts one notification and tracks it until it completes (runs from
// before changeLeanHistory).
func (w *caseWorkflow) send(ctx workflow.Context, m mail) {
	actx := notifyCtx(ctx, m.summary)
	var f workflow.Future
	var key string
	var kind tierflow.MessageKind
	if m.customer != nil {
		f, key, kind = workflow.ExecuteActivity(actx, a.NotifyCustomer, *m.customer), m.customer.Key, m.customer.Kind
	} else {
		f, key, kind = workflow.ExecuteActivity(actx, a.NotifyStaff, *m.staff), m.staff.Key, m.staff.Kind
	}
	w.pendingSends++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.pendingSends-- }()
		var res activities.NotifyResult
		err := f.Get(ctx, &res)
		if err == nil {
			switch res.State {
			case "", activities.StateSent, activities.StateDuplicate:
			case activities.StateUnconfirmed:
				// The provider may or may not have it; it is not sent again. A
				// person checks it (the ledger lists it), the case's record says so.
				workflow.GetLogger(ctx).Warn("notification unconfirmed", "key", key, "reason", res.Error)
				w.recordNotificationProblems(ctx, []notificationProblem{{typ: tierflow.EventNotificationUnconfirmed, key: key,
					kind: kind, reason: res.Error, changeID: changeRecordUnconfirmedEmail}})
			default:
				workflow.GetLogger(ctx).Warn("notification not delivered", "key", key, "state", res.State, "reason", res.Error)
			}
			return
		}
		// Retries are unlimited except for errors no retry can fix: the failure
		// goes on the case's record.
		workflow.GetLogger(ctx).Error("notification failed", "key", key, "error", err)
		reason := failureReason(err)
		w.recordNotificationProblems(ctx, []notificationProblem{{typ: tierflow.EventNotificationFailed, key: key, kind: kind,
			reason: reason}})
	})
}

// failureReason is what the case's record says of a failed activity: the
// application error's own message, without the SDK's wrapping.
func failureReason(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

// The email activities' timeouts: the mailer gives up on the provider after 10s,
// the activity heartbeats while it waits and has room for the ledger writes
// around the send.
const (
	notifyStartToClose     = 60 * time.Second
	notifyHeartbeatTimeout = 15 * time.Second
)

// notifyCtx are the options of the email activities: the mailer gives up on the
// provider after 10s, the activity heartbeats while it waits and has room for the
// ledger writes around the send.
func notifyCtx(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: notifyStartToClose,
		HeartbeatTimeout:    notifyHeartbeatTimeout,
		RetryPolicy:         retryPolicy,
		Summary:             truncate(summary, 200),
	})
}

// notificationProblem is an email that failed or went unconfirmed, for the
// audit log; changeID, when set, is the patch that began recording it.
type notificationProblem struct {
	typ      tierflow.EventType
	key      string
	kind     tierflow.MessageKind
	reason   string
	changeID string
}

// recordNotificationProblems writes emails that failed or went unconfirmed into
// the audit log, in one transition (for a change that came with a patch, only in
// runs that have it).
func (w *caseWorkflow) recordNotificationProblems(ctx workflow.Context, problems []notificationProblem) {
	if len(problems) == 0 {
		return
	}
	if err := w.mu.Lock(ctx); err != nil {
		return
	}
	defer w.mu.Unlock()
	w.commitNotificationProblems(ctx, problems)
}

// commitNotificationProblems records problems in one transition; the caller
// holds mu.
func (w *caseWorkflow) commitNotificationProblems(ctx workflow.Context, problems []notificationProblem) {
	t := w.begin(ctx)
	for _, p := range problems {
		if p.changeID != "" && !t.patched(p.changeID) {
			continue
		}
		w.emit(t, p.typ, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
			ev.Reason = p.reason
			ev.Details = map[string]string{tierflow.DetailKey: p.key, tierflow.DetailKind: string(p.kind)}
		})
	}
	w.commit(ctx, t)
}

// sendAll starts a transition's emails as one Notify activity (changeLeanHistory)
// and tracks it until it completes: one activity task and one workflow task for
// the transition's emails instead of one each per email. The activity still
// sends each message at most once per its key (activities.Notify); what it
// reports failed or unconfirmed goes on the case's record in one transition.
func (w *caseWorkflow) sendAll(ctx workflow.Context, mails []mail) {
	if len(mails) == 0 {
		return
	}
	in := activities.NotifyInput{CaseID: w.st.CaseID, Messages: make([]activities.NotifyMessage, len(mails))}
	summaries := make([]string, len(mails))
	for i, m := range mails {
		in.Messages[i] = batchMessage(m)
		summaries[i] = m.summary
	}
	f := workflow.ExecuteActivity(notifyAllCtx(ctx, strings.Join(summaries, "; "), len(mails)), a.Notify, in)
	w.pendingSends++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.pendingSends-- }()
		var res activities.NotifyBatchResult
		if err := f.Get(ctx, &res); err != nil {
			// Retries are unlimited: only a batch no retry can fix ends here, and
			// then none of its messages was sent.
			workflow.GetLogger(ctx).Error("notifications failed", "case_id", w.st.CaseID, "error", err)
			w.recordNotificationProblems(ctx, batchFailed(in, err))
			return
		}
		w.recordNotificationProblems(ctx, batchProblems(ctx, res))
	})
}

// batchMessage is m as a message of a batch, without what Notify fills in the
// same way from the batch and the message itself (the case ID; the customer's
// name and locale; a staff message's department), so the batch carries each once.
func batchMessage(m mail) activities.NotifyMessage {
	if m.customer != nil {
		c := *m.customer
		c.CaseID, c.Data.CaseID, c.Data.CustomerName, c.Data.Locale = "", "", "", ""
		return activities.NotifyMessage{Customer: &c}
	}
	s := *m.staff
	s.CaseID, s.Data.CaseID = "", ""
	if s.Data.Department == s.Department {
		s.Data.Department = ""
	}
	return activities.NotifyMessage{Staff: &s}
}

// batchProblems are the outcomes of a batch that go on the case's record.
func batchProblems(ctx workflow.Context, res activities.NotifyBatchResult) []notificationProblem {
	var problems []notificationProblem
	for _, o := range res.Outcomes {
		switch o.State {
		case activities.StateSent, activities.StateDuplicate:
		case activities.StateUnconfirmed:
			// The provider may or may not have it; it is not sent again. A person
			// checks it (the ledger lists it), the case's record says so.
			workflow.GetLogger(ctx).Warn("notification unconfirmed", "key", o.Key, "reason", o.Error)
			problems = append(problems, notificationProblem{typ: tierflow.EventNotificationUnconfirmed, key: o.Key,
				kind: o.Kind, reason: o.Error})
		case activities.StateRefused:
			workflow.GetLogger(ctx).Error("notification failed", "key", o.Key, "reason", o.Error)
			problems = append(problems, notificationProblem{typ: tierflow.EventNotificationFailed, key: o.Key,
				kind: o.Kind, reason: o.Error})
		default:
			workflow.GetLogger(ctx).Warn("notification not delivered", "key", o.Key, "state", o.State, "reason", o.Error)
		}
	}
	return problems
}

// batchFailed records every message of a batch that failed as a whole.
func batchFailed(in activities.NotifyInput, err error) []notificationProblem {
	reason := failureReason(err)
	problems := make([]notificationProblem, 0, len(in.Messages))
	for _, m := range in.Messages {
		p := notificationProblem{typ: tierflow.EventNotificationFailed, reason: reason}
		if m.Customer != nil {
			p.key, p.kind = m.Customer.Key, m.Customer.Kind
		} else {
			p.key, p.kind = m.Staff.Key, m.Staff.Kind
		}
		problems = append(problems, p)
	}
	return problems
}

// notifyAllCtx are the options of a Notify batch: those of one email activity
// (notifyCtx), with a minute per message to run.
func notifyAllCtx(ctx workflow.Context, summary string, messages int) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Duration(messages) * notifyStartToClose,
		HeartbeatTimeout:    notifyHeartbeatTimeout,
		RetryPolicy:         retryPolicy,
		Summary:             truncate(summary, 200),
	})
}
