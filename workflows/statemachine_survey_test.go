package workflows

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tierflow/tierflow"
)

// checkSurveyOutbox asserts the invariants of the survey sent through the
// outbox (codeSurveyOutbox) over a run's record and what the fake mailer
// delivered:
//   - every survey_scheduled seq ends in exactly one of: the survey's answer, or
//     a record withdrawing its batch (Transition.CancelEmails); or the case has
//     not ended yet;
//   - each survey is recorded sent (survey_sent) at most once, and its email
//     (one key per survey) is delivered at most once;
//   - no survey email is delivered after a reopened or closed event that
//     follows its scheduling, unless the survey was answered by then: whatever
//     the mailer had not delivered when the survey ended unanswered is
//     withdrawn. (survey_sent, recorded at the send time by the first step from
//     it on, precedes every such event whether the mailer lagged or not, so it
//     says nothing of what was delivered.)
func checkSurveyOutbox(t *testing.T, f *fakes, final tierflow.CaseView) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	type position struct{ transition, event int }
	type survey struct {
		seq      int64
		at       position
		sent     int
		answered *position
		ends     []position // reopened and closed events from its scheduling on
	}
	var surveys []*survey
	for i, tr := range f.transitions {
		for j, ev := range tr.Events {
			pos := position{i, j}
			if ev.Type == tierflow.EventSurveyScheduled {
				surveys = append(surveys, &survey{seq: ev.Seq, at: pos})
				continue
			}
			if len(surveys) == 0 {
				continue
			}
			s := surveys[len(surveys)-1] // a new survey comes only after the last one ended
			switch ev.Type {
			case tierflow.EventSurveySent:
				s.sent++
			case tierflow.EventSurveyAnswered:
				s.answered = &pos
			}
			for _, s := range surveys {
				if ev.Type == tierflow.EventReopened || ev.Type == tierflow.EventClosed {
					s.ends = append(s.ends, pos)
				}
			}
		}
	}
	for _, s := range surveys {
		withdrawn := 0
		for _, tr := range f.transitions {
			if slices.Contains(tr.CancelEmails, s.seq) {
				withdrawn++
			}
		}
		outcomes := withdrawn
		if s.answered != nil {
			outcomes++
		}
		if final.Status == tierflow.StatusClosed || outcomes > 0 {
			assert.Equal(t, 1, outcomes, "survey %d: answered %v, withdrawn by %d records: it ends in exactly one",
				s.seq, s.answered != nil, withdrawn)
		}
		assert.LessOrEqual(t, s.sent, 1, "survey %d recorded sent %d times", s.seq, s.sent)
		key := testCaseID + "/" + itoa(int(s.seq)) + "/" + string(tierflow.MsgSurvey)
		delivered := 0
		for k, m := range f.customer {
			if m.Key != key {
				continue
			}
			delivered++
			for _, end := range s.ends {
				if end.transition >= f.customerAfter[k] {
					break // recorded after the delivery
				}
				answeredBy := s.answered != nil && s.answered.transition <= end.transition
				assert.True(t, answeredBy, "survey %d delivered after the %s event of transition %d, unanswered",
					s.seq, f.transitions[end.transition].Events[end.event].Type, end.transition)
			}
		}
		assert.LessOrEqual(t, delivered, 1, "survey %d delivered %d times", s.seq, delivered)
	}
}
