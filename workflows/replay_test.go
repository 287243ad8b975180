package workflows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
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
	// Two today: changeRecordOutsideMutex, asked once at the start of every run,
	// and changeCadenceOnEveryEmail at the escalation.
	assert.LessOrEqual(t, markers["Version"], 2, "patches on the typical path")
}

// The continued-as-new fixture is a real one: the first run ends in
// ContinuedAsNew and the resumed run starts from its state (CaseInput.Resume);
// the server gives the resumed run no static summary, which is why its current
// details carry it (TestContinuedRunShowsTheCase).
func TestContinuedAsNewFixtureIsARealContinuation(t *testing.T) {
	load := func(name string) *historypb.History {
		f, err := os.Open(filepath.Join("testdata", name+".json"))
		require.NoError(t, err)
		defer f.Close()
		hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
		require.NoError(t, err)
		return hist
	}
	first, resumed := load(continuedAsNew+".first"), load(continuedAsNew)
	assert.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, first.Events[len(first.Events)-1].GetEventType())
	assert.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, resumed.Events[len(resumed.Events)-1].GetEventType())
	start := resumed.Events[0].GetWorkflowExecutionStartedEventAttributes()
	require.NotNil(t, start)
	assert.NotEmpty(t, start.GetContinuedExecutionRunId())
	var in CaseInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(start.GetInput(), &in))
	require.NotNil(t, in.Resume, "the resumed run starts from the carried state")
	assert.Greater(t, in.Resume.Seq, int64(1))
	assert.NotEmpty(t, in.Resume.SeenDecisions, "deduplication memory travels too")
	assert.Nil(t, resumed.Events[0].GetUserMetadata(), "the server carries no static summary across continue-as-new")
	assert.NotNil(t, first.Events[0].GetUserMetadata())
}
