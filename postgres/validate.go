package postgres

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/tierflow/tierflow"
)

var (
	amountPattern   = regexp.MustCompile(`^[0-9]{1,18}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// validateTransition checks a transition before anything is written, so that a bad
// one is refused as a whole with every problem listed (CodeInvalid).
func validateTransition(t tierflow.Transition) error {
	var v tierflow.Validation
	v.Check(t.CaseID != "", "case_id", "is required")
	validateView(&v, t.CaseID, t.View)
	seen := make(map[int64]bool, len(t.Events))
	for i, e := range t.Events {
		field := fmt.Sprintf("events[%d]", i)
		validateEvent(&v, field, t.CaseID, e)
		v.Check(!seen[e.Seq], field+".seq", "%d appears twice in the transition", e.Seq)
		seen[e.Seq] = true
	}
	for i, seq := range t.CancelEmails {
		v.Check(seq > 0, fmt.Sprintf("cancel_emails[%d]", i), "must be positive, got %d", seq)
	}
	return v.Err("invalid transition")
}

func validateView(v *tierflow.Validation, caseID string, view tierflow.CaseView) {
	v.Check(view.ID == caseID, "view.id", "must be the case id %q, got %q", caseID, view.ID)
	v.Check(view.Seq > 0, "view.seq", "must be positive, got %d", view.Seq)
	v.Check(view.Status.Valid(), "view.status", "unknown status %q", view.Status)
	v.Check(view.Tier.Valid(), "view.tier", "must be 1 to 4, got %d", view.Tier)
	v.Check(view.StartTier.Valid(), "view.start_tier", "must be 1 to 4, got %d", view.StartTier)
	v.Check(view.Priority.Valid(), "view.priority", "unknown priority %q", view.Priority)
	v.Check(!view.OpenedAt.IsZero(), "view.opened_at", "is required")
	v.Check(view.Escalations >= 0, "view.escalations", "must not be negative")
	v.Check(view.Reopens >= 0, "view.reopens", "must not be negative")
}

func validateEvent(v *tierflow.Validation, field, caseID string, e tierflow.CaseEvent) {
	v.Check(e.CaseID == "" || e.CaseID == caseID, field+".case_id", "belongs to case %q, not %q", e.CaseID, caseID)
	v.Check(e.Seq > 0, field+".seq", "must be positive, got %d", e.Seq)
	v.Check(e.Type != "", field+".type", "is required")
	v.Check(!e.At.IsZero(), field+".at", "is required")
	v.Check(e.Actor.ID != "", field+".actor.id", "is required (who did it)")
	v.Check(e.Actor.Tier == 0 || e.Actor.Tier.Valid(), field+".actor.tier", "must be 1 to 4 (or 0 for none), got %d", e.Actor.Tier)
	v.Check(e.Tier.Valid(), field+".tier", "must be 1 to 4, got %d", e.Tier)
	v.Check(e.FromTier == 0 || e.FromTier.Valid(), field+".from_tier", "must be 1 to 4, got %d", e.FromTier)
	v.Check(e.Status.Valid(), field+".status", "unknown status %q", e.Status)
	if amount, ok := e.Details[tierflow.DetailAmountCents]; ok {
		v.Check(amountPattern.MatchString(amount), field+".details."+tierflow.DetailAmountCents,
			"must be a non-negative whole number of minor units, got %q", amount)
		v.Check(currencyPattern.MatchString(e.Details[tierflow.DetailCurrency]), field+".details."+tierflow.DetailCurrency,
			"must be an ISO 4217 code like EUR, got %q", e.Details[tierflow.DetailCurrency])
	}
	if e.Type == tierflow.EventSurveyAnswered {
		_, err := surveyAnswer(e)
		v.Check(err == nil, field+".details", "%v", err)
	}
	if e.Type == tierflow.EventSurveyScheduled || e.Type == tierflow.EventWarningScheduled { // the KPIs compare a survey's with now() in SQL
		_, err := time.Parse(time.RFC3339, e.Details[tierflow.DetailSendAt])
		v.Check(err == nil, field+".details."+tierflow.DetailSendAt, "must be an RFC 3339 instant, got %q",
			e.Details[tierflow.DetailSendAt])
	}
}

// surveyResponse is the survey_responses row of a survey_answered event.
type surveyResponse struct {
	Score    int
	Resolved *bool
	Comment  string
}

func surveyAnswer(e tierflow.CaseEvent) (surveyResponse, error) {
	score, err := strconv.Atoi(e.Details[tierflow.DetailScore])
	if err != nil || score < 1 || score > 5 {
		return surveyResponse{}, fmt.Errorf("score must be 1 to 5, got %q", e.Details[tierflow.DetailScore])
	}
	r := surveyResponse{Score: score, Comment: e.Details[tierflow.DetailComment]}
	if s := e.Details[tierflow.DetailResolved]; s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return surveyResponse{}, fmt.Errorf("resolved must be true or false, got %q", s)
		}
		r.Resolved = &b
	}
	return r, nil
}
