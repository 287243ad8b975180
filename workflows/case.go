package workflows

import (
	"encoding/json"
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// CaseWorkflow owns one case from escalation to closure: it opens the case at its
// start tier, waits on the nearest deadline, applies validated decisions, customer
// events and the survey answer, and returns the case's final receipt once it is
// closed (the final case is in the record and the case query).
func CaseWorkflow(ctx workflow.Context, in CaseInput) (tierflow.Receipt, error) {
	w := &caseWorkflow{in: in, mu: workflow.NewMutex(ctx)}
	// A new run asks no patch (its code level says what it has); a run without
	// a level asks one (changeEmailOutbox implies every older one).
	w.askVersions(ctx) // CaseInput.Code, or else changeEmailOutbox, or else changeLeanHistory (versions.go)
	w.recordAsync = w.patched(ctx, changeRecordOutsideMutex)
	// The opening (or resumption) goes first: handlers registered in setup may run
	// as soon as they exist (an Update can arrive with the start), and they wait
	// for the mutex that run releases.
	w.mu.TryLock(ctx)
	var opening *transition
	if in.Resume != nil {
		st := *in.Resume
		w.st = &st
		w.recordedSeq = st.Seq // the previous run recorded everything before it continued
	} else {
		opening = w.open(ctx)
	}
	if err := w.setup(ctx); err != nil {
		return tierflow.Receipt{}, err
	}
	return w.run(ctx, opening)
}

// caseWorkflow is one run of a case. Every state change happens while holding mu,
// through a tx that is committed (recorded, emails started) before mu is released,
// so Update handlers and the main loop never interleave inside a transition.
type caseWorkflow struct {
	in CaseInput
	st *CaseState
	mu workflow.Mutex

	decisions      workflow.ReceiveChannel
	customerEvents workflow.ReceiveChannel

	// pendingSends counts notifications still running.
	pendingSends int
	// published holds the search attribute values last upserted in this run.
	published *searchValues
	// timer is the pending timer of the main loop, if any.
	timer *armedTimer

	// lean: this run has changeLeanHistory (a local RecordTransition, one email
	// activity per transition, search attributes diffed against the run's own)
	// and, implied, every older change.
	lean bool
	// recordAsync: this run records outside the mutex (record.go); runs from
	// before changeRecordOutsideMutex record synchronously under it.
	recordAsync bool
	// recording: a RecordTransition is in flight; backlog waits behind it;
	// recordedSeq is the last event the record holds.
	recording   bool
	backlog     []pendingRecord
	recordedSeq int64

	// checking: a signalled decision's actor is being looked up in the staff
	// directory (signals.go); unchecked holds it and those behind it, in order.
	checking  bool
	unchecked []tierflow.Decision

	outbox outboxState // changeEmailOutbox (outbox.go)
	// surveyOutbox: this run's resolutions write the survey email into the
	// outbox with its send time (codeSurveyOutbox; survey.go).
	surveyOutbox bool
}

// open builds the first state of a new case and the opening transition.
func (w *caseWorkflow) open(ctx workflow.Context) *transition {
	t := w.begin(ctx)
	r, p := w.in.Request, w.in.Policy
	start := p.StartTierFor(r)
	openedAt := r.OpenedAt
	if openedAt.IsZero() {
		openedAt = t.now
	}
	w.st = &CaseState{CaseID: tierflow.CaseID(r.Source, r.ExternalID), Status: tierflow.StatusOpen, Tier: start,
		Department: r.Department, StartTier: start, EscalatedAt: t.now, LastDecision: "opened by " + w.in.OpenedBy.ID}
	ack := p.TierDeadline(tierflow.ClockAcknowledge, r.Priority, start, t.now)
	update := p.CustomerUpdateDeadline(r.Priority, t.now)
	w.st.Clocks = Clocks{Acknowledge: &ack, CustomerUpdate: &update, CloseTarget: p.CloseTargetDeadline(openedAt)}
	w.startAnswerClock(t)
	seq := w.emit(t, tierflow.EventOpened, w.in.OpenedBy, func(ev *tierflow.CaseEvent) {
		ev.Reason = string(r.Trigger)
		ev.Summary = r.FrontlineSummary
		ev.CustomerMessage = w.toldWhoAndWhen()
		ev.Details = map[string]string{tierflow.DetailTrigger: string(r.Trigger), tierflow.DetailPriority: string(r.Priority),
			tierflow.DetailStartTier: itoa(int(start)), tierflow.DetailPolicy: p.Name + "@" + p.Version}
	})
	w.mailCustomer(t, seq, tierflow.MsgEscalated, nil)
	return t
}

// setup registers every handler before the workflow does anything else.
func (w *caseWorkflow) setup(ctx workflow.Context) error {
	w.decisions = workflow.GetSignalChannelWithOptions(ctx, SignalDecision, workflow.SignalChannelOptions{
		Description: SignalDecisionDescription})
	w.customerEvents = workflow.GetSignalChannelWithOptions(ctx, SignalCustomerEvent, workflow.SignalChannelOptions{
		Description: "A customer event from the CRM (reply, requested_supervisor, external_complaint, withdrawn), " +
			"deduplicated by event_id."})
	if err := workflow.SetQueryHandlerWithOptions(ctx, QueryCase, func() (tierflow.CaseView, error) {
		return w.view(ctx), nil
	}, workflow.QueryHandlerOptions{Description: "The case as the API shows it: status, tier, owner, deadlines " +
		"with explanations, breaches, pending approval, compensation, survey."}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide, w.decideUpdate, workflow.UpdateHandlerOptions{
		Validator:   w.validateDecisionUpdate,
		Description: decideDescription,
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCustomerEvent, w.customerEventUpdate, workflow.UpdateHandlerOptions{
		Validator:   w.validateCustomerEventUpdate,
		Description: "Report a customer event (validated, deduplicated by event_id); returns the case's receipt.",
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSurvey, w.surveyUpdate, workflow.UpdateHandlerOptions{
		Validator: w.validateSurveyUpdate,
		Description: "Record the customer's survey answer (score 1-5, resolved, comment): closes the case, or " +
			"reopens it at tier 3 or above when the score is low or the issue is not resolved.",
	}); err != nil {
		return err
	}
	w.setupOutbox(ctx)
	return w.setupOpen(ctx)
}

// run finishes the opening (the caller holds mu): the directory proposes the
// first owner (a local activity, so only now that the handlers exist), then the
// opening is committed. It then waits on the nearest deadline or a message until
// the case is closed.
func (w *caseWorkflow) run(ctx workflow.Context, opening *transition) (tierflow.Receipt, error) {
	if opening != nil {
		w.assignOwner(opening, "new case")
		w.commit(ctx, opening)
	} else {
		w.publish(ctx, w.view(ctx))
	}
	w.mu.Unlock()

	for !w.st.Closed() {
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return w.continueAsNew(ctx)
		}
		if err := w.wait(ctx); err != nil {
			return tierflow.Receipt{}, err
		}
		if err := w.mu.Lock(ctx); err != nil {
			return tierflow.Receipt{}, err
		}
		w.drainSignals(ctx)
		w.processDue(ctx)
		w.mu.Unlock()
	}
	if err := w.settle(ctx); err != nil {
		return tierflow.Receipt{}, err
	}
	return w.receipt(), nil
}

// wait blocks until the nearest deadline, a signal, an earlier deadline set by an
// update, the case's closure, or a continue-as-new suggestion.
//
// It keeps one timer across turns of the loop (not workflow.AwaitWithOptions: in
// SDK 1.50 its timer stays pending when the condition wakes it, so every message
// would leave a stale timer behind). A message that leaves the nearest deadline
// where it was costs no timer; a deadline moved later keeps the running timer,
// which fires early, finds nothing due and re-arms; only a strictly earlier
// deadline cancels it for a new one (and, resolved, a later one: restsPastTimer).
func (w *caseWorkflow) wait(ctx workflow.Context) error {
	next, label := w.nextDeadline()
	if w.timer != nil && w.timer.fired.IsReady() {
		w.timer = nil
	}
	now := workflow.Now(ctx)
	if !next.IsZero() && !next.After(now) {
		return nil
	}
	if !next.IsZero() && (w.timer == nil || next.Before(w.timer.at) || w.restsPastTimer(next)) {
		if w.timer != nil {
			w.timer.cancel()
		}
		tctx, cancel := workflow.WithCancel(ctx)
		fired := workflow.NewTimerWithOptions(tctx, next.Sub(now), workflow.TimerOptions{Summary: truncate(label, 200)})
		w.timer = &armedTimer{at: next, fired: fired, cancel: cancel}
	}
	return workflow.Await(ctx, func() bool {
		if w.st.Closed() || w.hasSignals() || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return true
		}
		n, _ := w.nextDeadline()
		if w.timer == nil {
			return !n.IsZero()
		}
		return w.timer.fired.IsReady() || (!n.IsZero() && n.Before(w.timer.at)) || w.restsPastTimer(n)
	})
}

// restsPastTimer reports whether the pending timer should give way to next
// though it comes earlier: a resolved case of a run with the survey outbox rests
// for days (no timer sends its survey; its nearest instant is the survey's
// reminder or expiry), so a timer still pending for a clock the resolution
// stopped would wake it for nothing, and does in production, where tier clocks
// run hours: its firing, a workflow task and a new timer (five events) instead
// of a cancel and a new timer (two). Runs from before keep their timers.
func (w *caseWorkflow) restsPastTimer(next time.Time) bool {
	return w.surveyOutbox && w.timer != nil && w.st.Status == tierflow.StatusResolved && !next.IsZero() &&
		w.timer.at.Before(next)
}

// armedTimer is the main loop's one pending timer.
type armedTimer struct {
	at     time.Time
	fired  workflow.Future
	cancel workflow.CancelFunc
}

func (w *caseWorkflow) hasSignals() bool {
	return w.decisions.Len() > 0 || w.customerEvents.Len() > 0 || w.outbox.hasProblems()
}

// drainSignals applies every buffered signal (the caller holds mu). Payloads are
// decoded here, not by the SDK (which drops what it cannot decode with a log
// line), so that a malformed signal typed in the Temporal UI is recorded.
func (w *caseWorkflow) drainSignals(ctx workflow.Context) {
	for {
		var raw json.RawMessage
		if w.decisions.ReceiveAsync(&raw) {
			var d tierflow.Decision
			if err := decodeSignal(raw, &d); err != nil {
				w.undecodableSignal(ctx, "decision", err)
			} else {
				w.decisionSignal(ctx, d)
			}
			continue
		}
		if w.receiveNotificationProblems(ctx) {
			continue
		}
		raw = nil
		if w.customerEvents.ReceiveAsync(&raw) {
			var e tierflow.CustomerEvent
			if err := decodeSignal(raw, &e); err != nil {
				w.undecodableSignal(ctx, "customer_event", err)
			} else {
				w.customerEventSignal(ctx, e)
			}
			continue
		}
		return
	}
}

// decodeSignal decodes a signal's JSON payload as the SDK's JSON converter would.
func decodeSignal(raw json.RawMessage, v any) error {
	// workflowcheck flags encoding/json for reflect's type cache and the runtime
	// frames of its panics; decoding the same bytes always gives the same value.
	//workflowcheck:ignore
	return json.Unmarshal(raw, v)
}

// settle waits for running handlers, emails and directory checks of signals,
// applying any signal that arrives meanwhile, so that nothing is lost when the run
// ends.
func (w *caseWorkflow) settle(ctx workflow.Context) error {
	for {
		if err := workflow.Await(ctx, func() bool {
			return workflow.AllHandlersFinished(ctx) && w.pendingSends == 0 && w.recorded() && !w.checking
		}); err != nil {
			return err
		}
		if !w.hasSignals() {
			return nil
		}
		if err := w.mu.Lock(ctx); err != nil {
			return err
		}
		w.drainSignals(ctx)
		w.mu.Unlock()
	}
}

// continueAsNew starts a fresh run carrying the whole state, after applying every
// buffered signal and letting running handlers finish.
func (w *caseWorkflow) continueAsNew(ctx workflow.Context) (tierflow.Receipt, error) {
	if err := w.settle(ctx); err != nil {
		return tierflow.Receipt{}, err
	}
	next := w.in
	st := *w.st
	next.Resume = &st
	// The next run keeps this run's code level, never a higher one: a worker
	// from before that level (a rolling upgrade, a rollback) may take the next
	// run, and a pre-level worker drops the field and runs it at level 0, which
	// a level-aware replay of its history would not match. The case moves to a
	// newer level only as a new case.
	next.Code = w.in.Code
	workflow.GetLogger(ctx).Info("continuing as new", "case_id", w.st.CaseID, "seq", w.st.Seq)
	return tierflow.Receipt{}, workflow.NewContinueAsNewError(ctx, WorkflowName, next)
}

// view is the current projection with this run's identity, as of the workflow's
// now: a survey the outbox has sent since the last transition shows as sent
// (derived; the state records it at the next transition, catchUpSurvey). In the
// case query, now is the time of the run's last workflow task; the API shows
// the case as of its own clock (tierflow.CaseView.AsOf).
func (w *caseWorkflow) view(ctx workflow.Context) tierflow.CaseView {
	info := workflow.GetInfo(ctx)
	return w.st.asOf(workflow.Now(ctx)).View(w.in, tierflow.WorkflowRef{ID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID})
}

func itoa(n int) string { return strconv.Itoa(n) }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
