package activities_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// recordScheduled records events from..to of caseID with one batch per entry
// of mails (its seq), scheduled when notBefore has the seq, withdrawing cancel.
func (h *harness) recordScheduled(caseID string, from, to int64, mails map[int64]string, notBefore map[int64]time.Time,
	cancel ...int64) {
	h.t.Helper()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	view := tierflow.CaseView{ID: caseID, Source: "zendesk", ExternalID: caseID, Seq: to, Status: tierflow.StatusOpen,
		Tier: 2, StartTier: 1, Priority: tierflow.PriorityNormal, Subject: "Charged twice",
		Trigger: tierflow.TriggerUnresolved, OpenedAt: at, EscalatedAt: at}
	tr := tierflow.Transition{CaseID: caseID, View: view, CancelEmails: cancel}
	for seq := from; seq <= to; seq++ {
		tr.Events = append(tr.Events, tierflow.CaseEvent{CaseID: caseID, Seq: seq, Type: tierflow.EventNote, At: at,
			Actor: tierflow.SystemActor, Tier: 2, Status: tierflow.StatusOpen})
	}
	var batches []tierflow.OutboxBatch
	for seq, queue := range mails {
		raw, err := json.Marshal(activities.NotifyInput{CaseID: caseID,
			Messages: []activities.NotifyMessage{queueMail(caseID, seq, queue)}})
		require.NoError(h.t, err)
		b := tierflow.OutboxBatch{Seq: seq, Batch: raw}
		if t, ok := notBefore[seq]; ok {
			b.NotBefore = &t
		}
		batches = append(batches, b)
	}
	require.NoError(h.t, h.store.RecordTransitionWithOutbox(context.Background(), tr, batches))
}

// A scheduled batch (the survey) goes out at its time, not before, while its
// case's later batch goes at once; a scheduled batch withdrawn before its time
// never goes.
func TestDeliverOutboxSendsAScheduledBatchAtItsTime(t *testing.T) {
	h, _ := outboxHarness(t) // budget 1s: claims until For - 1s
	sendAt := time.Now().Add(2 * time.Second)
	h.recordScheduled("case-s", 1, 1, map[int64]string{1: "survey@example.com"}, map[int64]time.Time{1: sendAt})
	h.recordScheduled("case-s", 2, 2, map[int64]string{2: "reply@example.com"}, nil)
	h.recordScheduled("case-w", 1, 1, map[int64]string{1: "withdrawn@example.com"}, map[int64]time.Time{1: sendAt})
	h.recordScheduled("case-w", 2, 2, nil, nil, 1) // reopened before the send time
	assert.Equal(t, 1, h.outboxDepth(), "scheduled batches are no backlog before their time")

	res := h.deliverOutbox(4 * time.Second)
	assert.Equal(t, 2, res.Delivered)
	assert.Equal(t, []string{"reply@example.com", "survey@example.com"}, h.recipients(),
		"the later batch did not wait for the scheduled one")
	for _, m := range h.fake.Accepted() {
		if m.Mail.Recipients()[0] == "survey@example.com" {
			assert.False(t, m.AcceptedAt.Before(sendAt), "sent at %s, scheduled for %s", m.AcceptedAt, sendAt)
		} else {
			assert.True(t, m.AcceptedAt.Before(sendAt), "the unscheduled batch went at once")
		}
	}
	assert.Zero(t, h.outboxDepth())
}
