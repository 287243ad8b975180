package tierflow

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReceiptIsSmall(t *testing.T) {
	b, err := json.Marshal(Receipt{CaseID: "zendesk-48213", Seq: 12, Status: StatusInProgress, Tier: TierSpecialist})
	require.NoError(t, err)
	assert.JSONEq(t, `{"case_id": "zendesk-48213", "seq": 12, "status": "in_progress", "tier": 2}`, string(b))
	assert.Less(t, len(b), 100, "a receipt replaces a CaseView of several KB in every Update's answer")
}

// A case running on a worker from before receipts answers the whole case; a
// current one a receipt. Both decode, and neither is taken for the other.
func TestCaseAnswerDecodesBothShapes(t *testing.T) {
	owner := "dev:specialist"
	view := CaseView{ID: "zendesk-48213", Source: "zendesk", ExternalID: "48213", Status: StatusInProgress,
		Tier: TierSpecialist, Department: "billing", Assignee: &owner, Subject: "Refund not received",
		OpenedAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC), Seq: 7,
		Workflow: WorkflowRef{ID: "case-zendesk-48213", RunID: "run-1"}}
	whole, err := json.Marshal(view)
	require.NoError(t, err)
	var old CaseAnswer
	require.NoError(t, json.Unmarshal(whole, &old))
	require.NotNil(t, old.View, "the whole case")
	assert.Equal(t, view, *old.View)
	assert.Equal(t, Receipt{CaseID: "zendesk-48213", Seq: 7, Status: StatusInProgress, Tier: TierSpecialist}, old.Receipt)

	receipt, err := json.Marshal(ReceiptOf(view))
	require.NoError(t, err)
	var current CaseAnswer
	require.NoError(t, json.Unmarshal(receipt, &current))
	assert.Nil(t, current.View, "a receipt is not a case")
	assert.Equal(t, ReceiptOf(view), current.Receipt)

	// Inside another answer (the open Update's {"case": ..., "created": ...}).
	var open struct {
		Case    CaseAnswer `json:"case"`
		Created bool       `json:"created"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"case": `+string(receipt)+`, "created": true}`), &open))
	assert.True(t, open.Created)
	assert.Equal(t, int64(7), open.Case.Receipt.Seq)

	var bad CaseAnswer
	assert.Error(t, json.Unmarshal([]byte(`{"case_id": 7}`), &bad))
	assert.Error(t, json.Unmarshal([]byte(`{"id": "x", "seq": "seven"}`), &bad))
}
