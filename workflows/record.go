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

// The durable record (PostgreSQL) is written by one RecordTransition at a time, in
// the order of the transitions, outside the case's mutex: a database outage
// delays the record, never the case. Its timers keep firing and other messages
// keep being applied while RecordTransition retries; what queued meanwhile is
// recorded in one batch, in order, once the database is back. An Update still
// returns only once its own transition is recorded (awaitRecorded), waiting
// without the mutex.
//
// Since changeLeanHistory RecordTransition is a local activity: the worker writes
// the record while the workflow task that made the transition is open, so an
// Update answers within that task, the record costs one marker event, and the
// transition's emails are scheduled (when the task completes) after their record
// is written or has failed. Runs from before it keep the regular activity.

// pendingRecord is one or more transitions' events, oldest first, and the view
// after the last of them; with changeEmailOutbox, each transition's emails too,
// and the earlier batches they withdraw (cancel).
type pendingRecord struct {
	events []tierflow.CaseEvent
	view   tierflow.CaseView
	mails  []transitionMails
	cancel []int64
}

// record writes r after every transition before it: at once when nothing is
// being recorded (scheduled before the transition's emails, as a synchronous
// record was), else after the RecordTransition in flight.
func (w *caseWorkflow) record(ctx workflow.Context, r pendingRecord) {
	if w.recording {
		w.backlog = append(w.backlog, r)
		return
	}
	w.startRecord(ctx, r)
}

// startRecord runs one RecordTransition and, when it ends, the backlog merged
// into one. A record that fails for any reason but invalid input (its retries
// ran out) is tried again a minute later, with what queued meanwhile: the record
// is never dropped, and never written out of order.
func (w *caseWorkflow) startRecord(ctx workflow.Context, r pendingRecord) {
	w.recording = true
	run := func(ctx workflow.Context, r pendingRecord) workflow.Future {
		in := activities.RecordTransitionInput{Transition: tierflow.Transition{CaseID: w.st.CaseID, Events: r.events,
			View: r.view, CancelEmails: r.cancel}, Emails: outboxEmails(r.mails)}
		summary := recordSummary(r.events, r.mails) + withdrawnSummary(r.cancel)
		if w.lean {
			return workflow.ExecuteLocalActivity(recordLocalCtx(ctx, summary), a.RecordTransition, in)
		}
		return workflow.ExecuteActivity(activityCtx(ctx, summary), a.RecordTransition, in)
	}
	f := run(ctx, r) // started now: before the transition's emails
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			err := f.Get(ctx, nil)
			if err == nil {
				break
			}
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeInvalidInput {
				// No retry can fix it; the events stay in Temporal's history, the
				// emails it carried are sent as before the outbox. A scheduled one
				// (the survey) has no one to send it at its time: it is not sent.
				workflow.GetLogger(ctx).Error("record transition refused", "case_id", w.st.CaseID, "seq", r.view.Seq, "error", err)
				for _, m := range r.mails {
					if m.notBefore != nil {
						workflow.GetLogger(ctx).Error("scheduled email not sent: its record was refused", "case_id", w.st.CaseID,
							"seq", m.seq, "not_before", *m.notBefore)
						continue
					}
					w.sendAll(ctx, m.mails)
				}
				break
			}
			workflow.GetLogger(ctx).Warn("record transition failed; trying again in a minute", "case_id", w.st.CaseID,
				"seq", r.view.Seq, "error", err)
			if err := workflow.Sleep(ctx, time.Minute); err != nil {
				return
			}
			r = mergeRecords(append([]pendingRecord{r}, w.backlog...))
			w.backlog = nil
			f = run(ctx, r)
		}
		w.recordedSeq, w.recording = r.view.Seq, false
		if len(w.backlog) > 0 {
			next := mergeRecords(w.backlog)
			w.backlog = nil
			w.startRecord(ctx, next)
		}
	})
}

// recordLocalBudget bounds one local RecordTransition, retries included. A local
// activity keeps its workflow task open while it runs (timers, signals and
// Updates of the case wait behind it), and the SDK heartbeats a task open longer
// than 80% of its timeout (10s by default) with three more history events; so a
// database that is down or hung holds the case for at most this long, then the
// record waits a minute on a timer with the mutex free (above). One attempt may
// use all of it: under a storm of transitions it mostly waits for one of the
// pool's connections (a transaction itself takes milliseconds); quick failures
// (connection refused) are retried within it.
const recordLocalBudget = 6 * time.Second

// recordLocalCtx are the options of the local RecordTransition (changeLeanHistory):
// retried from 0.2s, doubling to 2s, within recordLocalBudget; invalid input is
// not retried.
func recordLocalCtx(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    recordLocalBudget,
		ScheduleToCloseTimeout: recordLocalBudget,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 2 * time.Second, NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput}},
		Summary: truncate(summary, 200),
	})
}

// mergeRecords joins queued records into one: every event in order, the last view.
func mergeRecords(rs []pendingRecord) pendingRecord {
	out := pendingRecord{view: rs[len(rs)-1].view}
	for _, r := range rs {
		out.events = append(out.events, r.events...)
		out.mails = append(out.mails, r.mails...)
		out.cancel = append(out.cancel, r.cancel...)
	}
	return out
}

// recordNow is the synchronous record of runs from before changeRecordOutsideMutex:
// RecordTransition and the emails start together and the caller (holding the
// mutex) waits for the record.
func (w *caseWorkflow) recordNow(ctx workflow.Context, events []tierflow.CaseEvent, view tierflow.CaseView, mails []mail) {
	rec := workflow.ExecuteActivity(activityCtx(ctx, recordSummary(events, nil)), a.RecordTransition,
		activities.RecordTransitionInput{Transition: tierflow.Transition{CaseID: w.st.CaseID, Events: events, View: view}})
	for _, m := range mails {
		w.send(ctx, m)
	}
	if err := rec.Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("record transition failed", "case_id", w.st.CaseID, "seq", w.st.Seq, "error", err)
	}
	w.recordedSeq = view.Seq
}

// awaitRecorded waits, without the mutex, until the record holds event seq.
func (w *caseWorkflow) awaitRecorded(ctx workflow.Context, seq int64) error {
	return workflow.Await(ctx, func() bool { return w.recordedSeq >= seq })
}

// recorded reports whether nothing waits to be recorded.
func (w *caseWorkflow) recorded() bool { return !w.recording && len(w.backlog) == 0 }

// recordSummary names the events and, with the outbox, the emails a record
// writes ("record: escalated, assigned; email customer: escalated to ..."), so
// the case's history still says what it sent.
func recordSummary(events []tierflow.CaseEvent, mails []transitionMails) string {
	types := make([]string, 0, len(events))
	for _, ev := range events {
		types = append(types, string(ev.Type))
	}
	parts := []string{"record: " + strings.Join(types, ", ")}
	for _, tm := range mails {
		for _, m := range tm.mails {
			parts = append(parts, m.summary)
		}
	}
	return strings.Join(parts, "; ")
}

// withdrawnSummary names the scheduled batches a record withdraws ("; withdraw
// the emails of event 12"), empty when none.
func withdrawnSummary(seqs []int64) string {
	if len(seqs) == 0 {
		return ""
	}
	names := make([]string, len(seqs))
	for i, seq := range seqs {
		names[i] = formatInt(seq)
	}
	return "; withdraw the emails of event " + strings.Join(names, ", ")
}
