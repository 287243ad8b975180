package postgres

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	require.NoError(t, s.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func TestRecordTransitionRetryIsHarmless(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	view := testCase("zendesk-1", 2)
	opened := testEvent("zendesk-1", 1, tierflow.EventOpened)
	assigned := testEvent("zendesk-1", 2, tierflow.EventAssigned)
	assigned.Details = map[string]string{"assignee": "dev-agent"}
	assigned.Actor = tierflow.Principal{ID: "dev-supervisor", Name: "Morgan", Role: tierflow.RoleSupervisor, Tier: 3}
	assigned.Reason, assigned.Summary, assigned.CustomerMessage = "load", "tried a refund", "We are on it"

	first := record(t, s, view, opened, assigned)
	assert.Equal(t, recordResult{EventsInserted: 2, ProjectionMoved: true}, first)
	var updatedAt1 string
	require.NoError(t, s.pool.QueryRow(ctx, "SELECT updated_at::text FROM cases").Scan(&updatedAt1))

	retry := record(t, s, view, opened, assigned)
	assert.Equal(t, recordResult{EventsDuplicate: 2}, retry)
	assert.Equal(t, 2, countRows(t, s, "case_events"))
	assert.Equal(t, 1, countRows(t, s, "cases"))
	var updatedAt2 string
	require.NoError(t, s.pool.QueryRow(ctx, "SELECT updated_at::text FROM cases").Scan(&updatedAt2))
	assert.Equal(t, updatedAt1, updatedAt2, "a retry must not touch the projection")

	events, err := s.CaseEvents(ctx, "zendesk-1")
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, opened, events[0])
	assert.Equal(t, assigned, events[1])
}

func TestProjectionNeverMovesBackwards(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	newer := testCase("zendesk-2", 5)
	newer.Status, newer.Tier, newer.Escalations = tierflow.StatusInProgress, 2, 1
	older := testCase("zendesk-2", 3)

	record(t, s, newer, testEvent("zendesk-2", 5, tierflow.EventAcknowledged))
	late := record(t, s, older, testEvent("zendesk-2", 3, tierflow.EventNote))
	assert.False(t, late.ProjectionMoved)
	assert.Equal(t, 1, late.EventsInserted, "a late transition still adds its missing events")

	got, err := s.GetCase(ctx, "zendesk-2")
	require.NoError(t, err)
	assert.Equal(t, int64(5), got.Seq)
	assert.Equal(t, tierflow.StatusInProgress, got.Status)
	assert.Equal(t, tierflow.Tier(2), got.Tier)

	events, err := s.CaseEvents(ctx, "zendesk-2")
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, []int64{3, 5}, []int64{events[0].Seq, events[1].Seq}, "oldest first")
}

// An event recorded twice with different content keeps the first and is reported.
func TestConflictingDuplicateEventKeepsTheFirst(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	note := testEvent("zendesk-3", 1, tierflow.EventNote)
	note.Summary = "first"
	record(t, s, testCase("zendesk-3", 1), note)

	other := note
	other.Summary = "second"
	res := record(t, s, testCase("zendesk-3", 1), other)
	assert.Equal(t, []int64{1}, res.EventsConflict)
	assert.Zero(t, res.EventsInserted)

	events, err := s.CaseEvents(ctx, "zendesk-3")
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, "first", events[0].Summary)
}

func TestSurveyAnswerIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	answered := testEvent("zendesk-4", 7, tierflow.EventSurveyAnswered)
	answered.Status = tierflow.StatusResolved
	answered.Details = map[string]string{"score": "4", "resolved": "false", "comment": "slow"}
	view := testCase("zendesk-4", 7)
	view.Status = tierflow.StatusResolved
	record(t, s, view, answered)
	record(t, s, view, answered)

	var score int
	var resolved *bool
	var comment string
	require.NoError(t, s.pool.QueryRow(ctx, "SELECT score, resolved, comment FROM survey_responses").Scan(&score, &resolved, &comment))
	assert.Equal(t, 1, countRows(t, s, "survey_responses"))
	assert.Equal(t, 4, score)
	require.NotNil(t, resolved)
	assert.False(t, *resolved)
	assert.Equal(t, "slow", comment)
}

func TestRecordTransitionRefusesBadData(t *testing.T) {
	tests := []struct {
		name   string
		change func(*tierflow.Transition)
		field  string
	}{
		{"empty case id", func(tr *tierflow.Transition) { tr.CaseID = "" }, "case_id"},
		{"unknown view tier", func(tr *tierflow.Transition) { tr.View.Tier = 7 }, "view.tier"},
		{"unknown event tier", func(tr *tierflow.Transition) { tr.Events[0].Tier = 7 }, "events[0].tier"},
		{"zero seq", func(tr *tierflow.Transition) { tr.Events[0].Seq = 0 }, "events[0].seq"},
		{"zero view seq", func(tr *tierflow.Transition) { tr.View.Seq = 0 }, "view.seq"},
		{"unknown status", func(tr *tierflow.Transition) { tr.View.Status = "pending" }, "view.status"},
		{"unknown priority", func(tr *tierflow.Transition) { tr.View.Priority = "meh" }, "view.priority"},
		{"view of another case", func(tr *tierflow.Transition) { tr.View.ID = "zendesk-other" }, "view.id"},
		{"event of another case", func(tr *tierflow.Transition) { tr.Events[0].CaseID = "zendesk-other" }, "events[0].case_id"},
		{"no actor", func(tr *tierflow.Transition) { tr.Events[0].Actor = tierflow.Principal{} }, "events[0].actor.id"},
		{"negative amount", func(tr *tierflow.Transition) {
			tr.Events[0].Details = map[string]string{"amount_cents": "-500", "currency": "EUR"}
		}, "events[0].details.amount_cents"},
		{"amount without currency", func(tr *tierflow.Transition) {
			tr.Events[0].Details = map[string]string{"amount_cents": "500"}
		}, "events[0].details.currency"},
		{"survey score 9", func(tr *tierflow.Transition) {
			tr.Events[0].Type = tierflow.EventSurveyAnswered
			tr.Events[0].Details = map[string]string{"score": "9"}
		}, "events[0].details"},
		{"same seq twice", func(tr *tierflow.Transition) { tr.Events[1].Seq = tr.Events[0].Seq }, "events[1].seq"},
	}
	s := newStore(t) // every case is refused, so they can share a database
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tierflow.Transition{
				CaseID: "zendesk-5",
				View:   testCase("zendesk-5", 2),
				Events: []tierflow.CaseEvent{
					testEvent("zendesk-5", 1, tierflow.EventCompensationOK),
					testEvent("zendesk-5", 2, tierflow.EventNote),
				},
			}
			tt.change(&tr)
			err := s.RecordTransition(context.Background(), tr)
			requireCode(t, err, tierflow.CodeInvalid)
			var domainErr *tierflow.Error
			require.ErrorAs(t, err, &domainErr)
			fields := make([]string, len(domainErr.Fields))
			for i, f := range domainErr.Fields {
				fields[i] = f.Field
			}
			assert.Contains(t, fields, tt.field, "error: %v", err)
			for _, table := range []string{"cases", "case_events", "survey_responses"} {
				assert.Zero(t, countRows(t, s, table), "%s must stay empty", table)
			}
		})
	}
}

// The database refuses bad values too, whoever writes them, and the store reports
// them by SQLSTATE as domain errors.
func TestDatabaseConstraintsAreMappedToDomainErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	record(t, s, testCase("zendesk-6", 1), testEvent("zendesk-6", 1, tierflow.EventOpened))

	tests := []struct {
		name string
		sql  string
		code tierflow.Code
	}{
		{"tier 7", `UPDATE cases SET tier = 7`, tierflow.CodeInvalid},
		{"negative amount", `INSERT INTO case_events (case_id, seq, type, at, actor_id, tier, status, details)
			VALUES ('zendesk-6', 2, 'approved', now(), 'x', 1, 'open', '{"amount_cents": "-1", "currency": "EUR"}')`, tierflow.CodeInvalid},
		{"unknown case", `INSERT INTO case_events (case_id, seq, type, at, actor_id, tier, status)
			VALUES ('nope', 1, 'note', now(), 'x', 1, 'open')`, tierflow.CodeInvalid},
		{"duplicate event", `INSERT INTO case_events (case_id, seq, type, at, actor_id, tier, status)
			VALUES ('zendesk-6', 1, 'note', now(), 'x', 1, 'open')`, tierflow.CodeConflict},
		{"malformed number", `SELECT 'abc'::int`, tierflow.CodeInvalid},
		{"score 6", `INSERT INTO survey_responses (case_id, event_seq, score, answered_at) VALUES ('zendesk-6', 1, 6, now())`, tierflow.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.pool.Exec(ctx, tt.sql)
			requireCode(t, mapError(err), tt.code)
		})
	}
	got, err := s.GetCase(ctx, "zendesk-6")
	require.NoError(t, err)
	assert.Equal(t, tierflow.Tier(1), got.Tier)
}

// Events and projection are one transaction: when an event is refused, the
// projection does not move either.
func TestRecordTransitionIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	record(t, s, testCase("zendesk-7", 1), testEvent("zendesk-7", 1, tierflow.EventOpened))
	_, err := s.pool.Exec(ctx, `
CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.type = 'boom' THEN RAISE EXCEPTION 'boom refused' USING ERRCODE = 'check_violation'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_boom BEFORE INSERT ON case_events FOR EACH ROW EXECUTE FUNCTION refuse_boom();`)
	require.NoError(t, err)

	next := testCase("zendesk-7", 3)
	next.Status = tierflow.StatusInProgress
	err = s.RecordTransition(ctx, tierflow.Transition{CaseID: "zendesk-7", View: next, Events: []tierflow.CaseEvent{
		testEvent("zendesk-7", 2, tierflow.EventAcknowledged),
		testEvent("zendesk-7", 3, "boom"),
	}})
	requireCode(t, err, tierflow.CodeInvalid)

	got, err := s.GetCase(ctx, "zendesk-7")
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Seq)
	assert.Equal(t, tierflow.StatusOpen, got.Status)
	assert.Equal(t, 1, countRows(t, s, "case_events"))
}
