package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
)

// StateRefused is the outcome of a batched message that no retry can send: the
// provider refused it (the ledger holds it "failed" with the provider's reason)
// or it could not be built (invalid input). The workflow records it on the case
// (notification_failed), as it records a NotifyCustomer or NotifyStaff that
// failed with ErrTypeEmailRejected or ErrTypeInvalidInput.
const StateRefused = "refused"

// Notify sends a transition's emails, in order, each at most once per its key:
// every message goes through the same claim, send and settle as NotifyCustomer
// and NotifyStaff (see doc.go), so the ledger is the memory across attempts per
// message, exactly as when each message was an activity of its own.
//
// A message no retry can send is an outcome (StateRefused), not an error, so it
// never stops the others. An error a retry may fix (the ledger or the directory
// unreachable, the provider unavailable: the key released) stops the batch and
// fails the activity with that error (for EmailUnavailable, its NextRetryDelay):
// Temporal retries the whole batch, and the messages settled before it answer
// from the ledger (duplicate, unconfirmed, refused) without being sent again.
func (a *Activities) Notify(ctx context.Context, in NotifyInput) (NotifyBatchResult, error) {
	if in.CaseID == "" || len(in.Messages) == 0 {
		return NotifyBatchResult{}, invalidInput("notify: case_id and at least one message are required")
	}
	messages := make([]NotifyMessage, len(in.Messages))
	for i, m := range in.Messages { // all checked before anything is claimed
		var err error
		if messages[i], err = m.ofCase(in.CaseID); err != nil {
			return NotifyBatchResult{}, invalidInput("notify case %s, message %d: %v", in.CaseID, i, err)
		}
	}
	out := NotifyBatchResult{Outcomes: make([]NotifyOutcome, 0, len(messages))}
	for _, m := range messages {
		key, kind := m.id()
		recordHeartbeat(ctx, key) // the batch is alive between sends too
		res, err := a.notifyMessage(ctx, m)
		o, retry := outcome(key, kind, res, err)
		if retry != nil {
			return NotifyBatchResult{}, retry
		}
		out.Outcomes = append(out.Outcomes, o)
	}
	return out, nil
}

// id is the key and kind of a message checked by ofCase.
func (m NotifyMessage) id() (string, tierflow.MessageKind) {
	if m.Customer != nil {
		return m.Customer.Key, m.Customer.Kind
	}
	return m.Staff.Key, m.Staff.Kind
}

// ofCase is m with the batch's case ID where it names none (a batch names its
// case once); an error unless m is exactly one of a customer or a staff message,
// of that case.
func (m NotifyMessage) ofCase(caseID string) (NotifyMessage, error) {
	if (m.Customer == nil) == (m.Staff == nil) {
		return m, errors.New("a message is either a customer or a staff message")
	}
	var id *string
	if m.Customer != nil {
		c := *m.Customer
		m.Customer, id = &c, &c.CaseID
	} else {
		s := *m.Staff
		m.Staff, id = &s, &s.CaseID
	}
	if *id == "" {
		*id = caseID
	}
	if *id != caseID {
		return m, fmt.Errorf("the message is of case %s", *id)
	}
	return m, nil
}

func (a *Activities) notifyMessage(ctx context.Context, m NotifyMessage) (NotifyResult, error) {
	if m.Customer != nil {
		return a.NotifyCustomer(ctx, *m.Customer)
	}
	return a.NotifyStaff(ctx, *m.Staff)
}

// outcome turns one message's result into its outcome, or into the error that
// must fail the batch (retry != nil). A message the provider refused reads
// "refused" whether this attempt was refused or an earlier one was (the ledger
// then holds it "failed" with the provider's reason; "no recipients" is the only
// other reason a message is failed).
func outcome(key string, kind tierflow.MessageKind, res NotifyResult, err error) (o NotifyOutcome, retry error) {
	o = NotifyOutcome{Key: key, Kind: kind, State: res.State, Error: res.Error}
	if err == nil {
		if res.State == StateFailed && res.Error != ReasonNoRecipients {
			o.State, o.Error = StateRefused, rejectedReason(res.Error)
		}
		return o, nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		o.State, o.Error = StateRefused, appErr.Message()
		return o, nil
	}
	return NotifyOutcome{}, err
}

// rejectedReason is the reason of a provider's refusal as the workflow records
// it, the same whether this attempt or an earlier one was refused.
func rejectedReason(reason string) string { return "email rejected: " + reason }
