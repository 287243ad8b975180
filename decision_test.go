package tierflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecisionValidate(t *testing.T) {
	long := strings.Repeat("x", MaxTextLen+1)
	tests := []struct {
		name   string
		d      Decision
		fields []string
	}{
		{"unknown action", Decision{Action: "shout"}, []string{"action"}},
		{"acknowledge", Decision{Action: ActionAcknowledge, DecisionID: "crm:42.1"}, nil},
		{"bad decision id", Decision{Action: ActionAcknowledge, DecisionID: "a b"}, []string{"decision_id"}},
		{"note", Decision{Action: ActionNote, Text: "called the bank"}, nil},
		{"empty note", Decision{Action: ActionNote}, []string{"text"}},
		{"update_customer", Decision{Action: ActionUpdateCustomer}, []string{"message"}},
		{"request_info", Decision{Action: ActionRequestInfo, Message: "Which card?"}, nil},
		{"functional escalation", Decision{Action: ActionEscalate, Mode: EscalationFunctional, Department: "billing",
			Reason: "refund", Summary: "tried reversal"}, nil},
		{"hierarchical escalation", Decision{Action: ActionEscalate, Mode: EscalationHierarchical, Reason: "authority",
			Summary: "needs 400.00"}, nil},
		{"functional escalation without department", Decision{Action: ActionEscalate, Mode: EscalationFunctional,
			Reason: "r", Summary: "s"}, []string{"department"}},
		{"escalation without anything", Decision{Action: ActionEscalate}, []string{"mode", "reason", "summary"}},
		{"transfer", Decision{Action: ActionTransfer, Department: "Shipping"}, []string{"department", "summary"}},
		{"reassign", Decision{Action: ActionReassign}, []string{"assignee"}},
		{"compensation", Decision{Action: ActionProposeCompensation, AmountCents: 4000, Currency: "EUR", Description: "refund"}, nil},
		{"bad compensation", Decision{Action: ActionProposeCompensation, AmountCents: -1, Currency: "eur"},
			[]string{"amount_cents", "currency", "description"}},
		{"approve", Decision{Action: ActionApprove}, []string{"approval_id"}},
		{"reject", Decision{Action: ActionReject, ApprovalID: "ap-1", Note: "too much"}, nil},
		{"resolve", Decision{Action: ActionResolve}, []string{"resolution"}},
		{"resolve with explanation", Decision{Action: ActionResolve, Resolution: "refunded", Explanation: "bank error"}, nil},
		{"reopen", Decision{Action: ActionReopen}, []string{"reason"}},
		{"close", Decision{Action: ActionClose, Reason: "duplicate"}, nil},
		{"texts too long", Decision{Action: ActionResolve, Resolution: long, Explanation: long, Note: long},
			[]string{"resolution", "explanation", "note"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Validate()
			if tt.fields == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ElementsMatch(t, tt.fields, fieldsOf(t, err), "error: %v", err)
		})
	}
	err := Decision{Action: ActionEscalate, Mode: "sideways", Reason: "r", Summary: "s"}.Validate()
	require.Error(t, err)
	assert.Equal(t, "invalid escalate decision: mode must be functional or hierarchical", err.Error())
}

func TestCompensationStatuses(t *testing.T) {
	for _, s := range CompensationStatuses {
		assert.True(t, s.Valid(), s)
	}
	assert.False(t, CompensationStatus("answered").Valid())
}
