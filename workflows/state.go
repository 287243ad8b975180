package workflows

import (
	"hash/fnv"
	"strconv"
	"time"

	"github.com/tierflow/tierflow"
)

// maxSeenIDs bounds the decision and customer-event IDs a case remembers for
// deduplication; a retry older than that many messages is not expected.
const maxSeenIDs = 500

// CaseState is the whole mutable state of a case workflow. It is plain data (JSON
// through the SDK's data converter), carried whole through continue-as-new in
// CaseInput.Resume; the request and the pinned policy travel next to it in
// CaseInput. Every instant is absolute: a new run (or a replay) recomputes nothing.
type CaseState struct {
	CaseID string `json:"case_id"`
	// Seq is the sequence number of the last case event; keys of notifications
	// derive from it, so it only moves forward, across runs too.
	Seq int64 `json:"seq"`

	Status     tierflow.Status `json:"status"`
	Tier       tierflow.Tier   `json:"tier"`
	Department string          `json:"department,omitempty"`
	// Assignee is the owner (after acknowledge) or the proposed owner (while open);
	// empty means the tier's queue.
	Assignee     string `json:"assignee,omitempty"`
	Acknowledged bool   `json:"acknowledged,omitempty"`
	// ResumeStatus is where a paused case (awaiting_customer, awaiting_approval)
	// returns when the pause ends.
	ResumeStatus tierflow.Status `json:"resume_status,omitempty"`
	// PausedAt is when the tier clocks stopped; nil while they run.
	PausedAt *time.Time `json:"paused_at,omitempty"`

	StartTier   tierflow.Tier `json:"start_tier"`
	Escalations int           `json:"escalations"`
	Reopens     int           `json:"reopens"`
	EscalatedAt time.Time     `json:"escalated_at"`
	ResolvedAt  *time.Time    `json:"resolved_at,omitempty"`
	ClosedAt    *time.Time    `json:"closed_at,omitempty"`
	Resolution  string        `json:"resolution,omitempty"`
	// LastDecision describes the last applied decision or automatic step.
	LastDecision string `json:"last_decision,omitempty"`

	Clocks Clocks `json:"clocks"`

	Breaches            []tierflow.Breach       `json:"breaches,omitempty"`
	CloseTargetBreached bool                    `json:"close_target_breached,omitempty"`
	PendingApproval     *tierflow.Approval      `json:"pending_approval,omitempty"`
	Compensation        []tierflow.Compensation `json:"compensation,omitempty"`
	Survey              *tierflow.SurveyState   `json:"survey,omitempty"`
	// SurveyOutboxSeq is the survey_scheduled event whose outbox batch sends the
	// survey at its SendAt (codeSurveyOutbox): while it is set, the survey is
	// scheduled through the outbox and no timer sends it; the first transition
	// from SendAt on records it sent (catchUpSurvey) and keeps it, since the
	// mailer may lag; any end of the survey but its answer withdraws the batch
	// (cancelSurvey, Transition.CancelEmails). 0: no survey scheduled through
	// the outbox, or it was answered or withdrawn (a survey scheduled the old
	// way is sent by the case).
	SurveyOutboxSeq int64 `json:"survey_outbox_seq,omitempty"`
	// WarningOutbox are the warnings written into the outbox that have not gone
	// out yet (codeWarningOutbox; warnings.go), by their batch's seq.
	WarningOutbox []outboxWarning `json:"warning_outbox,omitempty"`

	// SeenDecisions and SeenEvents are the last maxSeenIDs applied decision and
	// customer-event IDs, oldest first.
	SeenDecisions []string `json:"seen_decisions,omitempty"`
	// DecisionPrints fingerprints each remembered decision by its ID, so that a
	// retry (same ID, same decision) is told apart from another decision reusing
	// the ID. States from before it have none: a repeated ID then counts as a retry.
	DecisionPrints map[string]string `json:"decision_prints,omitempty"`
	SeenEvents     []string          `json:"seen_events,omitempty"`
}

// Clocks are the case's running deadlines; nil means the clock is not running.
type Clocks struct {
	Acknowledge       *tierflow.Deadline `json:"acknowledge,omitempty"`
	AcknowledgeWarned bool               `json:"acknowledge_warned,omitempty"`
	Resolve           *tierflow.Deadline `json:"resolve,omitempty"`
	ResolveWarned     bool               `json:"resolve_warned,omitempty"`
	CustomerUpdate    *tierflow.Deadline `json:"customer_update,omitempty"`
	Approval          *tierflow.Deadline `json:"approval,omitempty"`
	// Answer is the customer's ETA: the resolution promise the policy makes for
	// the tier (its acknowledge and resolve times from the hand-over). It pauses
	// with the tier clocks and fires nothing: at tiers 1-3 a missed tier clock
	// escalates first; at tier 4 a breach renews it and tells the customer.
	Answer *tierflow.Deadline `json:"answer,omitempty"`
	// Repeats counts the times the running tier-4 clock was started again after
	// a breach; each repeat doubles its period (see Policy.RepeatDeadline).
	Repeats int `json:"repeats,omitempty"`
	// CloseTarget never pauses; it stops counting once the case is resolved.
	CloseTarget       tierflow.Deadline `json:"close_target"`
	CloseTargetWarned bool              `json:"close_target_warned,omitempty"`
	// InfoRequestedAt starts the waiting-on-customer clock; RemindersSent counts
	// the reminders already sent for it.
	InfoRequestedAt *time.Time `json:"info_requested_at,omitempty"`
	RemindersSent   int        `json:"reminders_sent,omitempty"`
	// SurveyRemindAt is when the one survey reminder is due (nil once sent).
	SurveyRemindAt *time.Time `json:"survey_remind_at,omitempty"`
}

// surveyRound is the round of the case's current survey: the one it was scheduled
// with, or for a survey scheduled before rounds (a state carried from an older
// run), the resolutions so far: every reopen follows a resolution.
func (s *CaseState) surveyRound() int {
	if s.Survey != nil && s.Survey.Round > 0 {
		return s.Survey.Round
	}
	return s.Reopens + 1
}

// Closed reports whether the case is over (the workflow then completes).
func (s *CaseState) Closed() bool { return s.Status == tierflow.StatusClosed }

// seenDecision reports whether the decision ID was already applied.
func (s *CaseState) seenDecision(id string) bool { return id != "" && contains(s.SeenDecisions, id) }

// seenEvent reports whether the customer event ID was already applied.
func (s *CaseState) seenEvent(id string) bool { return id != "" && contains(s.SeenEvents, id) }

func (s *CaseState) rememberDecision(d tierflow.Decision) {
	if d.DecisionID == "" {
		return
	}
	before := s.SeenDecisions
	s.SeenDecisions = remember(s.SeenDecisions, d.DecisionID)
	if s.DecisionPrints == nil {
		s.DecisionPrints = map[string]string{}
	}
	s.DecisionPrints[d.DecisionID] = fingerprint(d)
	if len(before) >= maxSeenIDs { // the oldest ID was dropped
		delete(s.DecisionPrints, before[0])
	}
}

// sameDecision reports whether d repeats the remembered decision with its ID.
func (s *CaseState) sameDecision(d tierflow.Decision) bool {
	p, ok := s.DecisionPrints[d.DecisionID]
	return !ok || p == fingerprint(d)
}

// fingerprint is a digest of everything a decision says (its actor included).
func fingerprint(d tierflow.Decision) string {
	h := fnv.New64a()
	for _, f := range []string{string(d.Action), d.Actor.ID, d.Text, d.Message, string(d.Mode), d.Department, d.Reason,
		d.Summary, d.Assignee, strconv.FormatInt(d.AmountCents, 10), d.Currency, d.Description, d.ApprovalID, d.Note,
		d.Resolution, d.Explanation} {
		_, _ = h.Write([]byte(f))
		_, _ = h.Write([]byte{0})
	}
	// Only migrate_policy names a policy; other decisions keep the prints
	// remembered before it existed.
	if d.Policy != "" {
		_, _ = h.Write([]byte(d.Policy))
		if p := d.PolicySnapshot; p != nil {
			_, _ = h.Write([]byte{0})
			_, _ = h.Write([]byte(p.Ref()))
		}
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

func (s *CaseState) rememberEvent(id string) {
	if id != "" {
		s.SeenEvents = remember(s.SeenEvents, id)
	}
}

func contains(ids []string, id string) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// remember appends id, dropping the oldest beyond maxSeenIDs.
func remember(ids []string, id string) []string {
	ids = append(ids, id)
	if over := len(ids) - maxSeenIDs; over > 0 {
		ids = append([]string(nil), ids[over:]...)
	}
	return ids
}

// eta is what the customer is told to expect: the tier's answer promise; none
// while the tier clocks stand still (the instant frozen at the pause would pass
// while the case legitimately waits). A state from before the answer clock
// falls back to the running tier deadline.
func (s *CaseState) eta() *time.Time {
	switch {
	case s.Status.TierClocksPaused() || s.Status == tierflow.StatusResolved || s.Closed():
		return nil
	case s.Clocks.Answer != nil:
		return timePtr(s.Clocks.Answer.At)
	case s.Clocks.Resolve != nil:
		return timePtr(s.Clocks.Resolve.At)
	case s.Clocks.Acknowledge != nil:
		return timePtr(s.Clocks.Acknowledge.At)
	}
	return nil
}

// View projects the state into the CaseView the API, the query and the Postgres
// projection share.
func (s *CaseState) View(in CaseInput, wf tierflow.WorkflowRef) tierflow.CaseView {
	r := in.Request
	v := tierflow.CaseView{
		ID: s.CaseID, Source: r.Source, ExternalID: r.ExternalID,
		Status: s.Status, Tier: s.Tier, Department: s.Department,
		Priority: r.Priority, Category: r.Category, Subject: r.Subject, Trigger: r.Trigger, Channel: r.Channel,
		Customer: r.Customer,
		Policy:   tierflow.PolicyRef{Name: in.Policy.Name, Version: in.Policy.Version},
		OpenedAt: r.OpenedAt, EscalatedAt: s.EscalatedAt, ResolvedAt: s.ResolvedAt, ClosedAt: s.ClosedAt,
		Deadlines:           s.deadlines(in.Policy),
		Breaches:            append([]tierflow.Breach{}, s.Breaches...),
		CloseTargetBreached: s.CloseTargetBreached,
		Compensation:        append([]tierflow.Compensation{}, s.Compensation...),
		Workflow:            wf,
		StartTier:           s.StartTier, Escalations: s.Escalations, Reopens: s.Reopens,
		Resolution: s.Resolution, LastDecision: s.LastDecision, Seq: s.Seq,
	}
	if s.Assignee != "" {
		v.Assignee = stringPtr(s.Assignee)
	}
	// The view must not share memory with the state it will outlive.
	if s.PendingApproval != nil {
		ap := *s.PendingApproval
		v.PendingApproval = &ap
	}
	if s.Survey != nil {
		sv := *s.Survey
		v.Survey = &sv
	}
	return v
}

// deadlines lists every pending instant of the case with its explanation: the
// tier clocks, the customer's answer promise, the update cadence, the approval,
// the close target, the reminders and auto-resolution while waiting on the
// customer, and the survey's send, reminder and expiry.
func (s *CaseState) deadlines(p tierflow.Policy) tierflow.Deadlines {
	c := s.Clocks
	var d tierflow.Deadlines
	add := func(dl *tierflow.Deadline) *time.Time {
		if dl == nil {
			return nil
		}
		d.Explanations = append(d.Explanations, *dl)
		return timePtr(dl.At)
	}
	d.AcknowledgeBy = add(c.Acknowledge)
	d.ResolveBy = add(c.Resolve)
	if !s.Status.TierClocksPaused() { // paused, the customer is promised no instant
		d.AnswerBy = add(c.Answer)
	}
	d.NextCustomerUpdateBy = add(c.CustomerUpdate)
	d.ApprovalBy = add(c.Approval)
	if s.closeTargetRunning() {
		d.CloseTargetAt = add(&c.CloseTarget)
	}
	reminder, auto := s.waitingDeadlines(p)
	d.CustomerReminderAt = add(reminder.explained(p))
	d.AutoResolveAt = add(auto.explained(p))
	send, remind, expiry := s.surveyDeadlines()
	d.SurveySendAt = add(send.explained(p))
	d.SurveyReminderAt = add(remind.explained(p))
	d.SurveyExpiresAt = add(expiry.explained(p))
	return d
}

// pendingWait is an instant the case waits for on the customer or the survey:
// when it comes and from what. The main loop needs only the instant (it asks on
// every wake-up); the case view explains it (explained).
type pendingWait struct {
	clock tierflow.Clock
	n     int // the reminder's number; 0 for the others
	from  time.Time
	at    time.Time
}

func (w *pendingWait) explained(p tierflow.Policy) *tierflow.Deadline {
	if w == nil {
		return nil
	}
	dl := p.WaitingDeadline(w.clock, w.n, w.from, w.at.Sub(w.from))
	return &dl
}

// waitingDeadlines are the next reminder (nil once all are sent, or when it
// would come after the auto-resolution) and the auto-resolution of a case waiting
// on the customer.
func (s *CaseState) waitingDeadlines(p tierflow.Policy) (reminder, auto *pendingWait) {
	c := s.Clocks
	if s.Status != tierflow.StatusAwaitingCustomer || c.InfoRequestedAt == nil {
		return nil, nil
	}
	ac, from := p.AwaitingCustomer, *c.InfoRequestedAt
	auto = &pendingWait{clock: tierflow.ClockAutoResolve, from: from, at: from.Add(ac.AutoResolveAfter.Duration)}
	if c.RemindersSent < len(ac.Reminders) {
		if at := from.Add(ac.Reminders[c.RemindersSent].Duration); at.Before(auto.at) {
			reminder = &pendingWait{clock: tierflow.ClockCustomerReminder, n: c.RemindersSent + 1, from: from, at: at}
		}
	}
	return reminder, auto
}

// closeTargetRunning: the 30-day target counts until the case is resolved.
func (s *CaseState) closeTargetRunning() bool {
	return s.Status != tierflow.StatusResolved && s.Status != tierflow.StatusClosed && !s.Clocks.CloseTarget.At.IsZero()
}

func timePtr(t time.Time) *time.Time { return &t }

func stringPtr(s string) *string { return &s }
