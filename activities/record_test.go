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

// recordingOutbox keeps what RecordTransition hands the store; the methods it
// does not implement are never called here (the embedded nil interfaces).
type recordingOutbox struct {
	tierflow.Outbox
	tierflow.Store
	transitions []tierflow.Transition
	batches     [][]tierflow.OutboxBatch
}

func (o *recordingOutbox) RecordTransitionWithOutbox(_ context.Context, t tierflow.Transition, b []tierflow.OutboxBatch) error {
	o.transitions = append(o.transitions, t)
	o.batches = append(o.batches, b)
	return nil
}

func (o *recordingOutbox) RecordTransition(_ context.Context, t tierflow.Transition) error {
	o.transitions = append(o.transitions, t)
	o.batches = append(o.batches, nil)
	return nil
}

// The record hands the outbox a scheduled batch with its send time, the batches
// it withdraws with the transition, with or without emails of its own.
func TestRecordTransitionSchedulesAndWithdrawsBatches(t *testing.T) {
	o := &recordingOutbox{}
	acts := &activities.Activities{Store: o, Outbox: o}
	sendAt := time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC)
	survey := activities.NotifyMessage{Customer: &activities.NotifyCustomerInput{Key: "case-1/9/survey", Kind: tierflow.MsgSurvey}}
	resolution := activities.NotifyMessage{Customer: &activities.NotifyCustomerInput{Key: "case-1/8/resolution", Kind: tierflow.MsgResolution}}
	view := tierflow.CaseView{ID: "case-1", Seq: 9}
	require.NoError(t, acts.RecordTransition(context.Background(), activities.RecordTransitionInput{
		Transition: tierflow.Transition{CaseID: "case-1", View: view},
		Emails: []activities.TransitionEmails{{Seq: 8, Messages: []activities.NotifyMessage{resolution}},
			{Seq: 9, Messages: []activities.NotifyMessage{survey}, NotBefore: &sendAt}},
	}))
	require.Len(t, o.batches, 1)
	require.Len(t, o.batches[0], 2)
	assert.Nil(t, o.batches[0][0].NotBefore)
	assert.Equal(t, int64(9), o.batches[0][1].Seq)
	require.NotNil(t, o.batches[0][1].NotBefore)
	assert.Equal(t, sendAt, *o.batches[0][1].NotBefore)
	var batch activities.NotifyInput
	require.NoError(t, json.Unmarshal(o.batches[0][1].Batch, &batch))
	assert.Equal(t, "case-1/9/survey", batch.Messages[0].Customer.Key)

	// A reopen before the send time: its record withdraws batch 9, emails or not.
	for _, emails := range [][]activities.TransitionEmails{nil, {{Seq: 11, Messages: []activities.NotifyMessage{resolution}}}} {
		require.NoError(t, acts.RecordTransition(context.Background(), activities.RecordTransitionInput{
			Transition: tierflow.Transition{CaseID: "case-1", View: view, CancelEmails: []int64{9}}, Emails: emails}))
		assert.Equal(t, []int64{9}, o.transitions[len(o.transitions)-1].CancelEmails)
	}

	// The input's JSON (the workflow's history) names them as the store reads them.
	raw, err := json.Marshal(activities.RecordTransitionInput{Transition: tierflow.Transition{CaseID: "case-1", CancelEmails: []int64{9}},
		Emails: []activities.TransitionEmails{{Seq: 9, NotBefore: &sendAt}}})
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"cancel_emails":[9]`)
	assert.Contains(t, string(raw), `"not_before":"2026-11-19T12:00:00Z"`)
}
