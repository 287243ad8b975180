package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/tierflow/tierflow"
)

// openOutcome captures one open Update's fate and when it answered.
type openOutcome struct {
	rejected   error
	err        error
	answer     OpenAnswer
	done       bool
	answeredAt time.Time
}

func sendOpen(t *testing.T, env *testsuite.TestWorkflowEnvironment, r OpenRequest, o *openOutcome) {
	env.UpdateWorkflow(UpdateOpen, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { o.rejected, o.done = err, true },
		OnComplete: func(v any, err error) {
			o.err, o.done, o.answeredAt = err, true, env.Now()
			switch v := v.(type) {
			case OpenAnswer:
				o.answer = v
			case converter.EncodedValue:
				if v != nil && err == nil {
					require.NoError(t, v.Get(&o.answer))
				}
			}
		},
	}, r)
}

// The open Update answers the request that started the case with the case's first
// state once the record holds the opening (here after a two-minute database
// outage), so the audit timeline has it when POST /v1/cases answers. A repeated
// open answers the case as it is; a different request is refused as a conflict.
func TestOpenUpdateAnswersOnceTheOpeningIsRecorded(t *testing.T) {
	env, f := testEnv(t, t0)
	f.recordDown.Store(true)
	at(env, 2*time.Minute, func() { f.recordDown.Store(false) })
	req := testRequest()
	in := input(testPolicy(), req)
	in.OpenRequestID = "request-1"

	first, repeated, different := &openOutcome{}, &openOutcome{}, &openOutcome{}
	var answeredDuringOutage bool
	at(env, 0, func() {
		sendOpen(t, env, OpenRequest{Fingerprint: RequestFingerprint(req), RequestID: "request-1"}, first)
	})
	at(env, time.Minute, func() { answeredDuringOutage = first.done })
	at(env, 10*time.Minute, func() {
		sendOpen(t, env, OpenRequest{Fingerprint: RequestFingerprint(req), RequestID: "request-2"}, repeated)
		other := req
		other.Subject = "Another subject"
		sendOpen(t, env, OpenRequest{Fingerprint: RequestFingerprint(other), RequestID: "request-3"}, different)
	})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, in)
	result(t, env)

	assert.False(t, answeredDuringOutage, "the answer waits for the record")
	require.True(t, first.done)
	require.NoError(t, first.rejected)
	require.NoError(t, first.err)
	assert.True(t, first.answer.Created, "the request that started the case")
	f.mu.Lock()
	opening, recordedAt := f.transitions[0], f.recordedAt[0]
	f.mu.Unlock()
	assert.Equal(t, tierflow.EventOpened, opening.Events[0].Type)
	assert.Equal(t, tierflow.ReceiptOf(opening.View), first.answer.Case,
		"the answer is the receipt of the recorded opening, from which the API reads the case")
	assert.NotEmpty(t, opening.View.Workflow.RunID, "the record names the run")
	assert.NotNil(t, opening.View.Assignee, "the record holds the first owner")
	assert.False(t, recordedAt.After(first.answeredAt), "recorded at %s, answered at %s", recordedAt, first.answeredAt)

	require.True(t, repeated.done)
	require.NoError(t, repeated.rejected)
	require.NoError(t, repeated.err)
	assert.False(t, repeated.answer.Created, "a repeated open")
	assert.Equal(t, first.answer.Case.CaseID, repeated.answer.Case.CaseID)

	require.True(t, different.done)
	require.Error(t, different.rejected)
	e, ok := AsCaseError(different.rejected)
	require.True(t, ok, "%v", different.rejected)
	assert.Equal(t, tierflow.CodeConflict, e.Code)
	assert.Contains(t, e.Message, "different request")
	f.checkRecord(t)
}

// The fingerprint the workflow computes from its input is the one the API computed
// from the request it decoded: the input's JSON round trip changes nothing, and the
// instant's offset does not count.
func TestRequestFingerprintSurvivesTheInputsJSON(t *testing.T) {
	req := testRequest()
	tier := tierflow.TierSpecialist
	req.StartTier = &tier
	req.OpenedAt = time.Date(2026, 11, 18, 11, 0, 0, 0, time.FixedZone("CET", 3600))
	dc := converter.GetDefaultDataConverter()
	p, err := dc.ToPayload(CaseInput{Request: req})
	require.NoError(t, err)
	var decoded CaseInput
	require.NoError(t, dc.FromPayload(p, &decoded))
	assert.Equal(t, RequestFingerprint(req), RequestFingerprint(decoded.Request))
	utc := req
	utc.OpenedAt = req.OpenedAt.UTC()
	assert.Equal(t, RequestFingerprint(req), RequestFingerprint(utc))
	other := req
	other.Priority = tierflow.PriorityLow
	assert.NotEqual(t, RequestFingerprint(req), RequestFingerprint(other))
}
