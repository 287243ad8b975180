package tierflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCustomerEventValidate(t *testing.T) {
	assert.NoError(t, CustomerEvent{Kind: CustomerReply, EventID: "zd-1", Message: "here is the receipt"}.Validate())
	assert.NoError(t, CustomerEvent{Kind: CustomerWithdrawn}.Validate())
	assert.ElementsMatch(t, []string{"kind"}, fieldsOf(t, CustomerEvent{Kind: "tweet"}.Validate()))
	assert.ElementsMatch(t, []string{"event_id", "message"},
		fieldsOf(t, CustomerEvent{Kind: CustomerReply, EventID: "has space", Message: strings.Repeat("m", MaxTextLen+1)}.Validate()))
}

func TestSurveyResponseValidate(t *testing.T) {
	for score := 1; score <= 5; score++ {
		assert.NoError(t, SurveyResponse{Score: score, Resolved: true}.Validate())
	}
	assert.ElementsMatch(t, []string{"score"}, fieldsOf(t, SurveyResponse{Score: 0}.Validate()))
	assert.ElementsMatch(t, []string{"score"}, fieldsOf(t, SurveyResponse{Score: 6}.Validate()))
	assert.ElementsMatch(t, []string{"comment"}, fieldsOf(t, SurveyResponse{Score: 3, Comment: strings.Repeat("c", MaxCommentLen+1)}.Validate()))
	assert.NoError(t, SurveyResponse{Score: 3, Comment: strings.Repeat("ü", MaxCommentLen)}.Validate())
}

func TestSurveyStatuses(t *testing.T) {
	for _, s := range SurveyStatuses {
		assert.True(t, s.Valid(), s)
	}
	assert.False(t, SurveyStatus("pending").Valid())
}
