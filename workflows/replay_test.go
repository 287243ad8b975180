package workflows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Every history recorded from a real run replays against the current code: a change
// that would break a case in flight fails here, long before it reaches one.
func TestReplayHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 3,
		"replay fixtures missing: TIERFLOW_CAPTURE=1 go test -count=1 -run TestCaptureHistories ./workflows/")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(CaseWorkflow, workflow.RegisterOptions{Name: WorkflowName})
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, file))
		})
	}
}

// The typical lifecycle (open, acknowledge, one escalation, acknowledge, resolve,
// survey, close) stays well inside Temporal's history budget.
func TestTypicalLifecycleHistorySize(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", typicalLifecycle+".json"))
	require.NoError(t, err)
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	n := len(hist.Events)
	t.Logf("typical lifecycle: %d history events", n)
	assert.Less(t, n, maxTypicalEvents)
	require.NotZero(t, n)
	assert.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, hist.Events[n-1].GetEventType())
	counts := map[enumspb.EventType]int{}
	markers := map[string]int{}
	for _, ev := range hist.Events {
		counts[ev.GetEventType()]++
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			markers[m.GetMarkerName()]++
		}
	}
	assert.Equal(t, 5, counts[enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED], "four decisions and the survey")
	assert.Equal(t, 2, markers["LocalActivity"], "one AssignOwner per tier entered")
	// Each patch the run meets costs a marker and a search attribute upsert: keep
	// patches off the typical path where possible, and remove them when they expire.
	assert.LessOrEqual(t, markers["Version"], 1, "patches on the typical path")
}
