package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
)

// NotifyResult states.
const (
	StateSent      = "sent"
	StateDuplicate = "duplicate"
	StateFailed    = "failed"
	// StateUnconfirmed: an attempt handed the message to the provider and the
	// outcome is unknown (it died before recording it, the answer was lost, a 5xx
	// that may hide a queued message). It may or may not have been delivered; it is
	// not sent again. The ledger keeps it "unconfirmed" for a person to check, and
	// the workflow records it on the case (notification_unconfirmed).
	StateUnconfirmed = "unconfirmed"
)

// Ledger reasons recorded when a message is settled without a confirmed send.
const (
	ReasonNoRecipients        = "no recipients"
	ReasonCrashedWhileSending = "outcome unknown after a crash; not resent"
)

// unknownReason is the ledger reason of a send whose outcome the Mailer could not
// tell (a lost answer, a 5xx that may hide a queued message).
func unknownReason(sendErr error) string {
	return "outcome unknown (" + sendErr.Error() + "); not resent"
}

// ledgerWriteTimeout bounds ledger writes after a send. They run on a context
// detached from the activity's, so that an activity timing out right after the
// provider accepted a message still records it.
const ledgerWriteTimeout = 10 * time.Second

// defaultRetryDelay is the wait after an unavailable provider that did not say.
const defaultRetryDelay = 30 * time.Second

// MetricNotificationsUnconfirmed counts messages settled unconfirmed (tags kind and
// audience), through the worker's metrics handler: Prometheus shows it as
// tierflow_notifications_unconfirmed_total.
const MetricNotificationsUnconfirmed = "tierflow_notifications_unconfirmed"

// outcomeUnknown is implemented by Mailer errors that can tell a failure before the
// request left (nothing sent) from one after it (the provider may have the
// message). Declared here so that activities never import an adapter.
type outcomeUnknown interface{ OutcomeUnknown() bool }

// NotifyCustomer emails the customer at most once per key.
func (a *Activities) NotifyCustomer(ctx context.Context, in NotifyCustomerInput) (NotifyResult, error) {
	e, err := a.customerEmail(in)
	if err != nil {
		return NotifyResult{}, err
	}
	return a.notify(ctx, e)
}

// customerEmail builds the customer message of in (the survey link signed).
func (a *Activities) customerEmail(in NotifyCustomerInput) (tierflow.Email, error) {
	if in.Key == "" || in.CaseID == "" || in.Kind == "" {
		return tierflow.Email{}, invalidInput("notify customer: key, case_id and kind are required")
	}
	data := in.Data
	if data.CaseID == "" {
		data.CaseID = in.CaseID
	}
	if data.CustomerName == "" {
		data.CustomerName = in.Customer.Name
	}
	if data.Locale == "" {
		data.Locale = in.Customer.Locale
	}
	if in.Kind == tierflow.MsgSurvey || in.Kind == tierflow.MsgSurveyReminder {
		if err := a.fillSurveyURL(in.CaseID, &data); err != nil {
			return tierflow.Email{}, err
		}
	}
	var to []tierflow.Address
	if in.Customer.Email != "" {
		to = []tierflow.Address{{Email: in.Customer.Email, Name: in.Customer.Name}}
	}
	return tierflow.Email{Key: in.Key, CaseID: in.CaseID, Kind: in.Kind,
		Audience: tierflow.AudienceCustomer, To: to, Data: data}, nil
}

// fillSurveyURL signs the survey link with the newest key, for the survey round
// the workflow names. The token depends only on the key, the case, the round and
// the expiry, so every attempt sends the same link. A message without a round was
// scheduled before rounds: its survey is the case's first (LegacySurveyRound).
func (a *Activities) fillSurveyURL(caseID string, data *tierflow.MessageData) error {
	if data.ExpiresAt == nil {
		return invalidInput("survey email for case %s needs expires_at", caseID)
	}
	if len(a.SurveyKeys) == 0 || len(a.SurveyKeys[0]) == 0 {
		return invalidInput("survey signing key is not configured")
	}
	if data.SurveyRound == 0 {
		data.SurveyRound = tierflow.LegacySurveyRound
	}
	token := tierflow.SignSurveyToken(a.SurveyKeys[0], tierflow.SurveyLink{CaseID: caseID, Round: data.SurveyRound, Expires: *data.ExpiresAt})
	data.SurveyURL = strings.TrimRight(a.SurveyBaseURL, "/") + "/v1/surveys/" + token
	return nil
}

// notify sends e at most once per e.Key. See doc.go for the ledger's story.
func (a *Activities) notify(ctx context.Context, e tierflow.Email) (NotifyResult, error) {
	log := activity.GetLogger(ctx)
	// Addresses are personal data: logs carry the key, kind and a count only.
	fields := []any{"key", e.Key, "case_id", e.CaseID, "kind", string(e.Kind), "recipients", len(e.To)}

	prev, err := a.Store.ClaimNotification(ctx, tierflow.NotificationClaim{
		Key: e.Key, CaseID: e.CaseID, Kind: e.Kind, Audience: e.Audience, Recipients: len(e.To)})
	if err != nil {
		return NotifyResult{}, activityError("claim notification "+e.Key, err)
	}
	// claim fences every ledger update of this attempt (see tierflow.NotificationLedger).
	claim := prev.Attempts
	switch prev.State {
	case tierflow.NotificationNew:
		// This attempt owns the key: go on and send.
	case tierflow.NotificationSent:
		log.Info("notification already sent; not sending again", append(fields, "provider_message_id", prev.ProviderMessageID)...)
		return NotifyResult{State: StateDuplicate, ProviderMessageID: prev.ProviderMessageID}, nil
	case tierflow.NotificationSending:
		// An earlier attempt claimed the key and never settled it: it crashed (or
		// timed out) somewhere between the claim and the ledger update, possibly
		// after the provider accepted the message. Sending again could email the
		// customer twice; not sending may lose one email. At most once wins: settle
		// the key as failed with the reason and report it unconfirmed.
		// It may also still be running (a zombie past its timeout): the update is
		// fenced on its claim, so whichever of us writes second changes nothing.
		if err := a.settleUnconfirmed(ctx, e, claim, ReasonCrashedWhileSending); err != nil {
			return NotifyResult{}, err
		}
		log.Warn("notification outcome unknown after a crash; not resent", fields...)
		return NotifyResult{State: StateUnconfirmed, Error: ReasonCrashedWhileSending}, nil
	case tierflow.NotificationUnconfirmed:
		log.Info("notification already unconfirmed; not sending", append(fields, "reason", prev.Error)...)
		return NotifyResult{State: StateUnconfirmed, Error: prev.Error}, nil
	case tierflow.NotificationFailed:
		log.Info("notification already failed; not sending", append(fields, "reason", prev.Error)...)
		return NotifyResult{State: StateFailed, Error: prev.Error}, nil
	default:
		return NotifyResult{}, fmt.Errorf("claim notification %s: unexpected ledger state %q", e.Key, prev.State)
	}

	if len(e.To) == 0 {
		if err := a.settleFailed(ctx, e.Key, claim, ReasonNoRecipients); err != nil {
			return NotifyResult{}, err
		}
		log.Warn("notification has no recipients; recorded as failed", fields...)
		return NotifyResult{State: StateFailed, Error: ReasonNoRecipients}, nil
	}

	stopHeartbeats := a.heartbeatWhileSending(ctx, e.Key)
	providerID, sendErr := a.Mailer.Send(ctx, e)
	stopHeartbeats()
	if sendErr == nil {
		return a.sent(ctx, e, claim, providerID, fields), nil
	}
	return a.sendFailed(ctx, e, claim, sendErr, fields)
}

// sent records a provider-accepted message. If the ledger cannot be updated the
// message is still reported sent (it was): the row stays "sending", a later retry
// of the same key would not resend it, and operators find it in the unsettled list.
// A stale claim (a later attempt settled the key meanwhile) changes nothing.
func (a *Activities) sent(ctx context.Context, e tierflow.Email, claim int, providerID string, fields []any) NotifyResult {
	log := activity.GetLogger(ctx)
	wctx, cancel := detached(ctx)
	defer cancel()
	if err := a.Store.MarkNotificationSent(wctx, e.Key, claim, providerID); err != nil {
		log.Error("notification sent but the ledger was not updated", append(fields, "provider_message_id", providerID,
			"stale_claim", isStale(err), "error", err)...)
	} else {
		log.Info("notification sent", append(fields, "provider_message_id", providerID)...)
	}
	return NotifyResult{State: StateSent, ProviderMessageID: providerID}
}

// sendFailed settles the claim after a failed send and says what Temporal should do.
func (a *Activities) sendFailed(ctx context.Context, e tierflow.Email, claim int, sendErr error, fields []any) (NotifyResult, error) {
	log := activity.GetLogger(ctx)
	var unknown outcomeUnknown
	code := tierflow.ErrorCode(sendErr)
	switch {
	case errors.As(sendErr, &unknown) && unknown.OutcomeUnknown():
		// The request reached the provider, and its answer was lost or said it may
		// have queued the message (a 5xx): as after a crash, do not risk a second email.
		reason := unknownReason(sendErr)
		if err := a.settleUnconfirmed(ctx, e, claim, reason); err != nil {
			return NotifyResult{}, err
		}
		log.Warn("notification outcome unknown; not resent", append(fields, "error", sendErr)...)
		return NotifyResult{State: StateUnconfirmed, Error: reason}, nil

	case code == tierflow.CodeUnavailable:
		// Certainly not accepted (a 429, a 503 with Retry-After, no connection): give the key back so the retry may send it, after the
		// delay the provider asked for.
		wctx, cancel := detached(ctx)
		defer cancel()
		if err := a.Store.ReleaseNotification(wctx, e.Key, claim, sendErr.Error()); isStale(err) {
			// A later attempt settled the key while this one was sending: this
			// attempt is a zombie and its release must not reopen the key.
			log.Warn("stale claim: the release changed nothing", append(fields, "claim", claim, "error", err)...)
		} else if err != nil {
			// The claim stays "sending": the retry will report it unconfirmed rather
			// than risk a double send.
			log.Error("could not release notification after a failed send", append(fields, "error", err)...)
		}
		delay := defaultRetryDelay
		var ra tierflow.RetryAfterError
		if errors.As(sendErr, &ra) && ra.RetryAfter() > 0 {
			delay = ra.RetryAfter()
		}
		log.Warn("email provider unavailable; will retry", append(fields, "retry_after", delay.String(), "error", sendErr)...)
		return NotifyResult{}, temporal.NewApplicationErrorWithOptions("email provider unavailable: "+sendErr.Error(),
			ErrTypeEmailUnavailable, temporal.ApplicationErrorOptions{Cause: sendErr, NextRetryDelay: delay})

	case code == tierflow.CodeRejected || code == tierflow.CodeInvalid:
		reason := sendErr.Error()
		if err := a.settleFailed(ctx, e.Key, claim, reason); err != nil {
			return NotifyResult{}, err
		}
		log.Warn("email rejected; not retried", append(fields, "error", sendErr)...)
		return NotifyResult{}, temporal.NewNonRetryableApplicationError(rejectedReason(reason),
			ErrTypeEmailRejected, sendErr, NotifyResult{State: StateFailed, Error: reason})

	default:
		// A Mailer breaking its contract: we cannot tell whether anything left, so
		// at most once applies.
		reason := unknownReason(sendErr)
		if err := a.settleUnconfirmed(ctx, e, claim, reason); err != nil {
			return NotifyResult{}, err
		}
		log.Error("unexpected mailer error; not resent", append(fields, "error", sendErr)...)
		return NotifyResult{State: StateUnconfirmed, Error: reason}, nil
	}
}

// settleFailed marks the claim failed; a ledger error is retryable (the retry finds
// the key still "sending" and settles it then, never sending it). A stale claim is
// retryable too: the retry reads what the later attempt decided.
func (a *Activities) settleFailed(ctx context.Context, key string, claim int, reason string) error {
	wctx, cancel := detached(ctx)
	defer cancel()
	if err := a.Store.MarkNotificationFailed(wctx, key, claim, reason); err != nil {
		if isStale(err) {
			activity.GetLogger(ctx).Warn("stale claim: the ledger update changed nothing", "key", key, "claim", claim, "error", err)
		}
		return activityError("mark notification "+key+" failed", err)
	}
	return nil
}

// settleUnconfirmed marks the claim unconfirmed and counts it; errors as settleFailed.
func (a *Activities) settleUnconfirmed(ctx context.Context, e tierflow.Email, claim int, reason string) error {
	wctx, cancel := detached(ctx)
	defer cancel()
	if err := a.Store.MarkNotificationUnconfirmed(wctx, e.Key, claim, reason); err != nil {
		if isStale(err) {
			activity.GetLogger(ctx).Warn("stale claim: the ledger update changed nothing", "key", e.Key, "claim", claim, "error", err)
		}
		return activityError("mark notification "+e.Key+" unconfirmed", err)
	}
	activity.GetMetricsHandler(ctx).WithTags(map[string]string{"kind": string(e.Kind), "audience": string(e.Audience)}).
		Counter(MetricNotificationsUnconfirmed).Inc(1)
	return nil
}

// isStale reports a ledger update refused because another attempt holds or
// settled the key.
func isStale(err error) bool { return tierflow.ErrorCode(err) == tierflow.CodeConflict }

// heartbeatWhileSending heartbeats (the key only: no personal data) until the
// returned stop is called. With a HeartbeatTimeout on the activity, Temporal then
// tells a slow provider from a dead worker, and a dead worker's attempt is retried
// after that timeout instead of the whole start-to-close timeout.
func (a *Activities) heartbeatWhileSending(ctx context.Context, key string) (stop func()) {
	every := a.HeartbeatInterval
	if every <= 0 {
		every = DefaultHeartbeatInterval
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	recordHeartbeat(ctx, key)
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				recordHeartbeat(ctx, key)
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// detached returns a context that outlives the activity's cancellation for one
// short ledger write.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), ledgerWriteTimeout)
}
