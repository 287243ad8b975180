package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The kinds of call take turns, so that each meets the same conditions; the
// warm-up calls come first and are not timed.
func TestTimeInTurnsInterleavesTheCalls(t *testing.T) {
	var calls []string
	record := func(name string) func(context.Context, int) error {
		return func(_ context.Context, i int) error {
			calls = append(calls, fmt.Sprintf("%s%d", name, i))
			return nil
		}
	}
	turns := []turn{{"a", record("a")}, {"b", record("b")}}
	require.NoError(t, warmTurns(context.Background(), 1, 3, turns))
	samples, err := timeTurns(context.Background(), 3, turns)
	require.NoError(t, err)
	assert.Equal(t, []string{"a3", "b3", "a0", "b0", "a1", "b1", "a2", "b2"}, calls)
	require.Len(t, samples, 2)
	assert.Len(t, samples[0], 3)
	assert.Len(t, samples[1], 3)
}

func TestTimeInTurnsNamesTheFailingCall(t *testing.T) {
	ok := func(context.Context, int) error { return nil }
	fail := func(_ context.Context, i int) error {
		if i == 1 {
			return errors.New("boom")
		}
		return nil
	}
	_, err := timeTurns(context.Background(), 3, []turn{{"decisions", ok}, {"raw updates", fail}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "raw updates: boom")
}

// The account reads each histogram's series by its label, sums and counts
// apart, and takes the means of what happened between two scrapes.
func TestRoundTripAccountReadsTheHistograms(t *testing.T) {
	scrape := func(text string) map[histogramKey]histogramTotal {
		m, err := histogramTotals(strings.NewReader(text), apiDecisions, caseTasks, caseRecords)
		require.NoError(t, err)
		return m
	}
	before := accountScrape{
		api: scrape(`tierflow_api_request_duration_seconds_sum{method="POST",route="POST /v1/cases/{id}/decisions"} 1.5
tierflow_api_request_duration_seconds_count{method="POST",route="POST /v1/cases/{id}/decisions"} 100
tierflow_api_request_duration_seconds_sum{method="POST",route="POST /v1/cases"} 99
tierflow_api_request_duration_seconds_count{method="POST",route="POST /v1/cases"} 9
`),
		worker: scrape(`temporal_workflow_task_execution_latency_seconds_sum{task_queue="tierflow_cases",workflow_type="CaseWorkflow"} 2
temporal_workflow_task_execution_latency_seconds_count{task_queue="tierflow_cases",workflow_type="CaseWorkflow"} 200
temporal_workflow_task_execution_latency_seconds_sum{task_queue="tierflow_cases",workflow_type="Mailer"} 50
temporal_workflow_task_execution_latency_seconds_count{task_queue="tierflow_cases",workflow_type="Mailer"} 5
temporal_local_activity_execution_latency_seconds_sum{activity_type="AssignOwner",workflow_type="CaseWorkflow"} 7
temporal_local_activity_execution_latency_seconds_count{activity_type="AssignOwner",workflow_type="CaseWorkflow"} 70
temporal_local_activity_execution_latency_seconds_sum{activity_type="RecordTransition",workflow_type="CaseWorkflow"} 0.5
temporal_local_activity_execution_latency_seconds_count{activity_type="RecordTransition",workflow_type="CaseWorkflow"} 200
`),
	}
	after := accountScrape{
		api: scrape(`tierflow_api_request_duration_seconds_sum{method="POST",route="POST /v1/cases/{id}/decisions"} 2.5
tierflow_api_request_duration_seconds_count{method="POST",route="POST /v1/cases/{id}/decisions"} 200
`),
		worker: scrape(`temporal_workflow_task_execution_latency_seconds_sum{task_queue="tierflow_cases",workflow_type="CaseWorkflow"} 2.4
temporal_workflow_task_execution_latency_seconds_count{task_queue="tierflow_cases",workflow_type="CaseWorkflow"} 300
temporal_local_activity_execution_latency_seconds_sum{activity_type="RecordTransition",workflow_type="CaseWorkflow"} 0.65
temporal_local_activity_execution_latency_seconds_count{activity_type="RecordTransition",workflow_type="CaseWorkflow"} 300
`),
	}
	ds := func(v ...time.Duration) []time.Duration { return v }
	a := accountFor(before, after, ds(12*time.Millisecond, 14*time.Millisecond), ds(6*time.Millisecond), ds(5*time.Millisecond, 7*time.Millisecond))
	assert.InDelta(t, 13, float64(a.DecisionMs), 1e-9)
	assert.InDelta(t, 10, float64(a.APIMs), 1e-9, "1 s over 100 decisions")
	assert.InDelta(t, 4, float64(a.WorkflowTaskMs), 1e-9, "0.4 s over 100 of the case's tasks, none of the mailer's")
	assert.Equal(t, 100, a.WorkflowTasks)
	assert.InDelta(t, 1.5, float64(a.RecordMs), 1e-9, "0.15 s over 100 records, no assignment")
	assert.Equal(t, 100, a.Records)
	assert.InDelta(t, 6, float64(a.RawUpdateMs), 1e-9)
	assert.InDelta(t, 6, float64(a.RawLocalMs), 1e-9)
}
