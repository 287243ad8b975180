package workflows

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/activities"
)

// The case's side of the email outbox (changeEmailOutbox): a transition's emails
// travel with its record (RecordTransitionInput.Emails) and the Mailer workflow
// (mailer.go) delivers them. What no retry can send comes back as
// SignalNotificationProblems and is recorded like a Notify activity's outcomes.

// outboxState is the outbox's part of a run.
type outboxState struct {
	// enabled: the run has changeEmailOutbox.
	enabled bool
	// problems receives SignalNotificationProblems (runs with the outbox).
	problems workflow.ReceiveChannel
	// recorded are the keys whose problem this run recorded: a batch the
	// mailer delivered twice (its lease ended) reports the same problems again.
	recorded map[string]bool
}

// hasProblems reports a buffered SignalNotificationProblems.
func (o *outboxState) hasProblems() bool { return o.problems != nil && o.problems.Len() > 0 }

// transitionMails are one outbox batch of a transition: its emails and the
// event that names the batch; notBefore schedules it (a scheduled mail).
type transitionMails struct {
	seq       int64
	notBefore *time.Time
	mails     []mail
}

// setupOutbox registers SignalNotificationProblems in runs with the outbox.
func (w *caseWorkflow) setupOutbox(ctx workflow.Context) {
	if !w.outbox.enabled {
		return
	}
	w.outbox.problems = workflow.GetSignalChannelWithOptions(ctx, SignalNotificationProblems,
		workflow.SignalChannelOptions{Description: "From the mailer: emails of the case that no retry can send " +
			"(refused) or whose fate is unknown (unconfirmed); recorded on the case's audit log."})
	w.outbox.recorded = map[string]bool{}
}

// outboxMails are t's emails as outbox batches, in the order of the events that
// name them: the emails that go now in one batch, named by the transition's
// last event that names no scheduled batch, and each scheduled email in a batch
// of its own, named by the event that caused it (the resolution's email under
// resolved, the survey under survey_scheduled). None when t sends none.
func outboxMails(t *transition) []transitionMails {
	if len(t.mails) == 0 {
		return nil
	}
	var now []mail
	var out []transitionMails
	scheduled := map[int64]bool{}
	for _, m := range t.mails {
		if m.notBefore == nil {
			now = append(now, m)
			continue
		}
		scheduled[m.seq] = true
		out = append(out, transitionMails{seq: m.seq, notBefore: m.notBefore, mails: []mail{m}})
	}
	if len(now) > 0 {
		seq := t.events[len(t.events)-1].Seq
		for i := len(t.events) - 1; i >= 0; i-- {
			if !scheduled[t.events[i].Seq] {
				seq = t.events[i].Seq
				break
			}
		}
		out = append(out, transitionMails{seq: seq, mails: now})
	}
	slices.SortStableFunc(out, func(a, b transitionMails) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// outboxEmails are the batches of a record's input, compacted as a Notify
// batch's messages are (batchMessage).
func outboxEmails(ms []transitionMails) []activities.TransitionEmails {
	if len(ms) == 0 {
		return nil
	}
	out := make([]activities.TransitionEmails, len(ms))
	for i, tm := range ms {
		out[i] = activities.TransitionEmails{Seq: tm.seq, NotBefore: tm.notBefore,
			Messages: make([]activities.NotifyMessage, len(tm.mails))}
		for j, m := range tm.mails {
			out[i].Messages[j] = batchMessage(m)
		}
	}
	return out
}

// receiveNotificationProblems records one buffered SignalNotificationProblems,
// if there is one (the caller holds mu): refused emails as notification_failed,
// unconfirmed ones as notification_unconfirmed, in one transition, each key
// once per run.
func (w *caseWorkflow) receiveNotificationProblems(ctx workflow.Context) bool {
	if w.outbox.problems == nil {
		return false
	}
	var raw json.RawMessage
	if !w.outbox.problems.ReceiveAsync(&raw) {
		return false
	}
	var p activities.NotificationProblems
	if err := decodeSignal(raw, &p); err != nil {
		workflow.GetLogger(ctx).Error("undecodable notification problems; dropped", "case_id", w.st.CaseID, "error", err)
		return true
	}
	fresh := p.Outcomes[:0:0]
	for _, o := range p.Outcomes {
		if !w.outbox.recorded[o.Key] {
			w.outbox.recorded[o.Key] = true
			fresh = append(fresh, o)
		}
	}
	w.commitNotificationProblems(ctx, batchProblems(ctx, activities.NotifyBatchResult{Outcomes: fresh}))
	return true
}
