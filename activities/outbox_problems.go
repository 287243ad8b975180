package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tierflow/tierflow"
)

// NotificationProblems is what the mailer tells a case of a batch's emails that
// no retry can send (refused) or whose fate is unknown (unconfirmed): the case
// records them on its audit log (notification_failed, notification_unconfirmed),
// as it recorded a Notify activity's outcomes. Seq names the batch (the
// transition's last event); a batch delivered again reports the same problems.
type NotificationProblems struct {
	Seq      int64           `json:"seq"`
	Outcomes []NotifyOutcome `json:"outcomes"`
}

// CaseSignaller delivers notification problems to the case's workflow (a Signal).
type CaseSignaller interface {
	// SignalNotificationProblems returns an error wrapping ErrCaseEnded when the
	// case's workflow is no longer running.
	SignalNotificationProblems(ctx context.Context, caseID string, p NotificationProblems) error
}

// ErrCaseEnded says a case's workflow has ended: it records nothing more.
var ErrCaseEnded = errors.New("the case's workflow has ended")

// reportProblems tells the case of its email problems. A case that has ended
// (it no longer waits for its emails) gets them appended to its record directly,
// after its last event, so the audit log still says what was not sent.
func (a *Activities) reportProblems(ctx context.Context, caseID string, seq int64, problems []NotifyOutcome) error {
	p := NotificationProblems{Seq: seq, Outcomes: problems}
	if a.Cases == nil {
		return errors.New("no case signaller configured")
	}
	err := a.Cases.SignalNotificationProblems(ctx, caseID, p)
	if !errors.Is(err, ErrCaseEnded) {
		return err
	}
	activity.GetLogger(ctx).Info("outbox: the case has ended; its email problems go on its record directly",
		"case_id", caseID, "seq", seq, "problems", len(problems))
	return a.recordProblemsOfEndedCase(ctx, caseID, problems)
}

// recordProblemsOfEndedCase appends one event per problem after the case's last
// event and moves its projection's seq with them (the workflow that numbered
// its events has ended: nothing else writes after it).
func (a *Activities) recordProblemsOfEndedCase(ctx context.Context, caseID string, problems []NotifyOutcome) error {
	view, err := a.Store.GetCase(ctx, caseID)
	if err != nil {
		return fmt.Errorf("read ended case %s: %w", caseID, err)
	}
	at := a.now()
	events := make([]tierflow.CaseEvent, 0, len(problems))
	for _, p := range problems {
		view.Seq++
		typ := tierflow.EventNotificationFailed
		if p.State == StateUnconfirmed {
			typ = tierflow.EventNotificationUnconfirmed
		}
		events = append(events, tierflow.CaseEvent{CaseID: caseID, Seq: view.Seq, Type: typ, At: at,
			Actor: tierflow.SystemActor, Tier: view.Tier, Status: view.Status, Department: view.Department,
			Reason: p.Error, Details: map[string]string{tierflow.DetailKey: p.Key, tierflow.DetailKind: string(p.Kind)}})
	}
	if err := a.Store.RecordTransition(ctx, tierflow.Transition{CaseID: caseID, Events: events, View: view}); err != nil {
		return fmt.Errorf("record email problems of ended case %s: %w", caseID, err)
	}
	return nil
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
