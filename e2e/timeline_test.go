package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// The audit timeline's bound for what the API answers: GET /v1/cases/{id}/events
// shows a transition at once after the answer that made it returns, with no wait
// and no retry, because every Update (the open sent with the start, a decision)
// answers only once the record holds its transition. Before, the open answered
// from the workflow's query, ahead of the record, and GET /events right after
// POST /v1/cases answered 404 for the new case: the store reports a case with
// neither events nor a row as not found, so the API never asked the workflow.
// Each case here is opened, read, decided and read again back to back.
func TestEndToEndTimelineHasEveryAnswerAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := startStack(t)
	a := newAPI(s.APIURL)

	run := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	for i := range 8 {
		ext := fmt.Sprintf("timeline-%s-%d", run, i)
		open := tierflow.OpenCaseRequest{
			Source: "zendesk", ExternalID: ext,
			Customer: tierflow.Customer{ID: "C-" + ext, Name: "Ada Lovelace", Email: ext + "@example.com", Locale: "en"},
			Subject:  "Charged twice", Category: "billing", Priority: tierflow.PriorityNormal, Department: "billing",
			Trigger: tierflow.TriggerUnresolved, OpenedAt: time.Now().UTC().Add(-time.Minute).Truncate(time.Second),
			FrontlineSummary: "Two settled charges.",
		}
		opened := a.do(ctx, t, tokIntegration, http.MethodPost, "/v1/cases", open).expect(t, http.StatusCreated, "open").caseView(t)
		events := a.events(ctx, t, tokViewer, opened.ID)
		require.NotEmpty(t, events, "case %s: the opening is on the timeline when POST /v1/cases answers", opened.ID)
		assert.Equal(t, tierflow.EventOpened, events[0].Type)
		assert.Equal(t, opened.Seq, events[len(events)-1].Seq, "the timeline holds everything the answer shows")

		again := a.do(ctx, t, tokIntegration, http.MethodPost, "/v1/cases", open).
			expect(t, http.StatusOK, "open again").caseView(t)
		assert.Equal(t, opened.ID, again.ID)
		assert.Equal(t, opened.Workflow.RunID, again.Workflow.RunID)

		acked := a.mustDecide(ctx, t, tokAgent, opened.ID, map[string]any{"action": "acknowledge", "decision_id": "ack-" + ext})
		events = a.events(ctx, t, tokViewer, opened.ID)
		last := events[len(events)-1]
		assert.Equal(t, acked.Seq, last.Seq, "case %s: the decision is on the timeline when its answer returns", opened.ID)
		assert.Contains(t, typesOf(events), tierflow.EventAcknowledged)

		noted := a.mustDecide(ctx, t, tokAgent, opened.ID, map[string]any{"action": "note", "decision_id": "note-" + ext,
			"text": "Called the bank."})
		events = a.events(ctx, t, tokViewer, opened.ID)
		last = events[len(events)-1]
		assert.Equal(t, tierflow.EventNote, last.Type)
		assert.Equal(t, noted.Seq, last.Seq, "case %s: the note is on the timeline when its answer returns", opened.ID)
	}
}

func typesOf(events []tierflow.CaseEvent) []tierflow.EventType {
	out := make([]tierflow.EventType, 0, len(events))
	for _, ev := range events {
		out = append(out, ev.Type)
	}
	return out
}
