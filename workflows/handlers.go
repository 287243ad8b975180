package workflows

import (
	"errors"

	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// Every message goes through one validation function and one transition function,
// whether it arrives as an Update (validated before it is accepted: a rejection
// leaves no trace in history) or as a Signal (a rejection is recorded as a
// decision_rejected event). Handlers re-validate under the mutex because another
// message may have changed the case between the validator and the handler.

// A decision retried with its decision_id (the client lost the answer, the API
// answered 503 during an outage) is accepted and answers the case's receipt as it
// is, once the first one's transition is recorded; it is applied once. The same ID on a
// different decision is refused.
func (w *caseWorkflow) validateDecisionUpdate(ctx workflow.Context, d tierflow.Decision) error {
	if err := w.validateDecision(d); !errors.Is(err, errAlreadyApplied) {
		return rejection(err)
	}
	return nil
}

func (w *caseWorkflow) decideUpdate(ctx workflow.Context, d tierflow.Decision) (tierflow.Receipt, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return tierflow.Receipt{}, err
	}
	judged := w.asJudged(ctx, d)
	err := w.judgeDecision(ctx, judged)
	if err != nil && !errors.Is(err, errAlreadyApplied) {
		w.mu.Unlock()
		return tierflow.Receipt{}, rejection(err)
	}
	if err == nil {
		if w.approvalOutsideCaseTier(judged) && !w.patched(ctx, changeApprovalByAuthority) {
			// A history from before the change: its handler refused this.
			w.mu.Unlock()
			return tierflow.Receipt{}, rejection(tierflow.Errorf(tierflow.CodeForbidden,
				"an actor at tier %d cannot decide for a tier %d case", actorTier(d.Actor), w.st.Tier))
		}
		t := w.begin(ctx)
		w.applyDecision(t, d, "")
		w.commit(ctx, t)
	}
	return w.answer(ctx)
}

// answer releases the mutex and returns the case's receipt once the record holds
// what the handler changed: an Update's answer is never ahead of the durable
// record, so the API reads the case after the message from the record (the
// receipt says which seq it must have reached; see tierflow.Receipt).
func (w *caseWorkflow) answer(ctx workflow.Context) (tierflow.Receipt, error) {
	receipt := w.receipt()
	w.mu.Unlock()
	if err := w.awaitRecorded(ctx, receipt.Seq); err != nil {
		return tierflow.Receipt{}, err
	}
	return receipt, nil
}

// receipt is the case's receipt as it stands (the caller holds mu).
func (w *caseWorkflow) receipt() tierflow.Receipt {
	return tierflow.Receipt{CaseID: w.st.CaseID, Seq: w.st.Seq, Status: w.st.Status, Tier: w.st.Tier}
}

// decisionSignal takes a signalled decision; the caller holds mu. Its actor is
// checked against the staff directory before it is applied (signals.go); runs
// from before changeVerifySignalActor applied it as the payload named it.
func (w *caseWorkflow) decisionSignal(ctx workflow.Context, d tierflow.Decision) {
	if w.st.seenDecision(d.DecisionID) {
		workflow.GetLogger(ctx).Info("duplicate decision ignored", "case_id", w.st.CaseID, "decision_id", d.DecisionID)
		return
	}
	if w.patched(ctx, changeVerifySignalActor) {
		w.checkSignalActor(ctx, d)
		return
	}
	t := w.begin(ctx)
	judged := w.asJudged(ctx, d)
	err := w.judgeDecision(ctx, judged)
	if err == nil && w.approvalOutsideCaseTier(judged) && !t.patched(changeApprovalByAuthority) {
		err = tierflow.Errorf(tierflow.CodeForbidden, "an actor at tier %d cannot decide for a tier %d case", actorTier(d.Actor), w.st.Tier)
	}
	if err != nil {
		w.recordRejection(t, d.Actor, err, map[string]string{tierflow.DetailMessage: "decision", tierflow.DetailAction: string(d.Action),
			tierflow.DetailDecisionID: d.DecisionID})
	} else {
		w.applyDecision(t, d, "")
	}
	w.commit(ctx, t)
}

// A customer event sent again with its event_id (the CRM retried) is accepted and
// answers the case's receipt as it is; it is applied once.
func (w *caseWorkflow) validateCustomerEventUpdate(ctx workflow.Context, e tierflow.CustomerEvent) error {
	if err := w.validateCustomerEvent(e); !errors.Is(err, errEventAlreadyApplied) {
		return rejection(err)
	}
	return nil
}

func (w *caseWorkflow) customerEventUpdate(ctx workflow.Context, e tierflow.CustomerEvent) (tierflow.Receipt, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return tierflow.Receipt{}, err
	}
	err := w.validateCustomerEvent(e)
	if err != nil && !errors.Is(err, errEventAlreadyApplied) {
		w.mu.Unlock()
		return tierflow.Receipt{}, rejection(err)
	}
	if err == nil {
		t := w.begin(ctx)
		w.applyCustomerEvent(t, e)
		w.commit(ctx, t)
	}
	return w.answer(ctx)
}

// customerEventSignal applies a signalled customer event; the caller holds mu.
func (w *caseWorkflow) customerEventSignal(ctx workflow.Context, e tierflow.CustomerEvent) {
	if w.st.seenEvent(e.EventID) {
		workflow.GetLogger(ctx).Info("duplicate customer event ignored", "case_id", w.st.CaseID, "event_id", e.EventID)
		return
	}
	t := w.begin(ctx)
	if err := w.validateCustomerEvent(e); err != nil {
		w.recordRejection(t, e.Source, err, map[string]string{tierflow.DetailMessage: "customer_event", tierflow.DetailKind: string(e.Kind),
			tierflow.DetailEventID: e.EventID})
	} else {
		w.applyCustomerEvent(t, e)
	}
	w.commit(ctx, t)
}

func (w *caseWorkflow) validateSurveyUpdate(ctx workflow.Context, r tierflow.SurveyResponse) error {
	if r.Round == 0 {
		return rejection(surveyRoundRequired)
	}
	return rejection(w.validateSurvey(workflow.Now(ctx), r))
}

func (w *caseWorkflow) surveyUpdate(ctx workflow.Context, r tierflow.SurveyResponse) (tierflow.Receipt, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return tierflow.Receipt{}, err
	}
	t := w.begin(ctx)
	if err := w.validateSurvey(t.now, r); err != nil {
		w.commit(ctx, t) // what begin recorded, if anything
		w.mu.Unlock()
		return tierflow.Receipt{}, rejection(err)
	}
	w.applySurvey(t, r)
	w.commit(ctx, t)
	return w.answer(ctx)
}

// recordRejection writes an invalid signal into the audit log instead of failing,
// marked as a signal (only signals are recorded when refused: a refused Update
// leaves no trace).
func (w *caseWorkflow) recordRejection(t *transition, actor tierflow.Principal, err error, details map[string]string) {
	details[tierflow.DetailVia] = tierflow.ViaSignal
	w.emit(t, tierflow.EventDecisionRejected, actor, func(ev *tierflow.CaseEvent) {
		ev.Reason = err.Error()
		ev.Details = details
	})
}

// undecodableSignal records a signal whose payload is not a valid message of its
// kind (the caller holds mu); the sender is unknown, so the system is the actor.
func (w *caseWorkflow) undecodableSignal(ctx workflow.Context, message string, err error) {
	if !w.patched(ctx, changeRecordUndecodableSignals) {
		workflow.GetLogger(ctx).Error("undecodable signal dropped", "case_id", w.st.CaseID, "message", message, "error", err)
		return
	}
	t := w.begin(ctx)
	reason := &tierflow.Error{Code: tierflow.CodeInvalid, Message: "the " + message + " signal is not valid JSON of its kind: " + err.Error()}
	w.recordRejection(t, tierflow.SystemActor, reason, map[string]string{tierflow.DetailMessage: message})
	w.commit(ctx, t)
}
