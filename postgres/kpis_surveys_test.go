package postgres

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// surveyStep is one event of a survey case: a type, and for survey_scheduled
// whether its send time has passed.
type surveyStep struct {
	typ   tierflow.EventType
	due   bool // survey_scheduled: send_at in the past
	score int  // survey_answered
}

// seedSurveyCase records a resolved case of category with the steps after its
// opened and resolved events.
func seedSurveyCase(t *testing.T, s *Store, id, category string, opened time.Time, steps ...surveyStep) {
	t.Helper()
	view := tierflow.CaseView{ID: id, Source: "zendesk", ExternalID: id, Status: tierflow.StatusResolved, Tier: 1,
		StartTier: 1, Priority: tierflow.PriorityNormal, Category: category, Department: "billing", Subject: "case " + id,
		Trigger: tierflow.TriggerUnresolved, OpenedAt: opened, EscalatedAt: opened, ResolvedAt: ptr(opened.Add(time.Hour))}
	var events []tierflow.CaseEvent
	add := func(typ tierflow.EventType, details map[string]string) {
		seq := int64(len(events) + 1)
		events = append(events, tierflow.CaseEvent{CaseID: id, Seq: seq, Type: typ, At: opened.Add(time.Duration(seq) * time.Minute),
			Actor: tierflow.SystemActor, Tier: 1, Status: tierflow.StatusResolved, Details: details})
	}
	add(tierflow.EventOpened, nil)
	add(tierflow.EventResolved, nil)
	for _, st := range steps {
		switch st.typ {
		case tierflow.EventSurveyScheduled:
			sendAt := time.Now().Add(24 * time.Hour)
			if st.due {
				sendAt = time.Now().Add(-time.Hour)
			}
			add(st.typ, map[string]string{tierflow.DetailSendAt: sendAt.UTC().Format(time.RFC3339)})
		case tierflow.EventSurveyAnswered:
			add(st.typ, map[string]string{tierflow.DetailScore: strconv.Itoa(st.score)})
		default:
			add(st.typ, nil)
		}
	}
	view.Seq = int64(len(events))
	require.NoError(t, s.RecordTransition(context.Background(), tierflow.Transition{CaseID: id, View: view, Events: events}))
}

// The response rate's denominator counts surveys sent by the case's timer
// (survey_sent) and surveys the outbox sends at their time (survey_scheduled
// whose send time has passed), each once: not a scheduled survey whose lazy
// survey_sent is recorded, nor one withdrawn by a reopen or close, nor one whose
// time has not come.
func TestKPIsCountScheduledSurveysSent(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	opened := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Hour)
	scheduled := surveyStep{typ: tierflow.EventSurveyScheduled, due: true}
	waiting := surveyStep{typ: tierflow.EventSurveyScheduled}
	sent := surveyStep{typ: tierflow.EventSurveySent}
	reopened := surveyStep{typ: tierflow.EventReopened}
	closed := surveyStep{typ: tierflow.EventClosed}
	resolved := surveyStep{typ: tierflow.EventResolved}
	answered := func(score int) surveyStep { return surveyStep{typ: tierflow.EventSurveyAnswered, score: score} }

	// Surveys sent: a 3, b 2; answers: a 1, b 1.
	seedSurveyCase(t, s, "timer", "a", opened, sent, answered(4))                        // 1, answered
	seedSurveyCase(t, s, "due", "a", opened, scheduled)                                  // 1: out, not yet recorded
	seedSurveyCase(t, s, "closed", "a", opened, scheduled, closed)                       // 0: withdrawn
	seedSurveyCase(t, s, "sent-reopened", "a", opened, scheduled, sent, reopened)        // 1
	seedSurveyCase(t, s, "lazy", "b", opened, scheduled, sent, answered(5))              // 1, answered
	seedSurveyCase(t, s, "waiting", "b", opened, waiting)                                // 0: a day away
	seedSurveyCase(t, s, "reopened", "b", opened, scheduled, reopened)                   // 0: withdrawn
	seedSurveyCase(t, s, "again", "b", opened, scheduled, reopened, resolved, scheduled) // 1: the second one

	report, err := s.KPIs(ctx, tierflow.KPIQuery{From: opened, To: opened.Add(time.Hour), GroupBy: "category"})
	require.NoError(t, err)
	assert.InDelta(t, 2.0/5, report.Total.SurveyResponseRate, 1e-9, "2 answers over 5 surveys sent")
	require.Len(t, report.Groups, 2)
	assert.InDelta(t, 1.0/3, report.Groups[0].SurveyResponseRate, 1e-9, "a: 1 answer over 3 sent")
	assert.InDelta(t, 1.0/2, report.Groups[1].SurveyResponseRate, 1e-9, "b: 1 answer over 2 sent")

	// The send time is compared in SQL: a record whose send_at does not parse is refused.
	view := tierflow.CaseView{ID: "bad", Source: "zendesk", ExternalID: "bad", Seq: 1, Status: tierflow.StatusResolved,
		Tier: 1, StartTier: 1, Priority: tierflow.PriorityNormal, Trigger: tierflow.TriggerUnresolved, OpenedAt: opened}
	err = s.RecordTransition(ctx, tierflow.Transition{CaseID: "bad", View: view, Events: []tierflow.CaseEvent{{
		CaseID: "bad", Seq: 1, Type: tierflow.EventSurveyScheduled, At: opened, Actor: tierflow.SystemActor, Tier: 1,
		Status: tierflow.StatusResolved, Details: map[string]string{tierflow.DetailSendAt: "tomorrow"}}}})
	requireCode(t, err, tierflow.CodeInvalid)
}
