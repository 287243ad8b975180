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
	"google.golang.org/protobuf/proto"
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
			replayer.RegisterWorkflowWithOptions(MailerWorkflow, workflow.RegisterOptions{Name: MailerWorkflowName})
			replayer.RegisterWorkflowWithOptions(PolicyMigrationWorkflow, workflow.RegisterOptions{Name: PolicyMigrationWorkflowName})
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, file))
		})
	}
}

// The typical lifecycle (open, acknowledge, one escalation, acknowledge, resolve,
// survey, close) stays within its budget of history events and bytes, sized as
// the bench sizes it (the serialized events, here with plaintext payloads), and
// costs what the lean history, the outbox and the code level promise: the record
// is local (a marker per transition, no RecordTransition activity), the emails
// go with it (no activity at all), the survey goes out of the outbox without
// waking the case, and the run asks no patch.
func TestTypicalLifecycleHistorySize(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", typicalLifecycle+".json"))
	require.NoError(t, err)
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	n, size := len(hist.Events), 0
	counts := map[enumspb.EventType]int{}
	markers := map[string]int{}
	activities := map[string]int{}
	changeVersionUpserts := 0
	for _, ev := range hist.Events {
		size += proto.Size(ev)
		counts[ev.GetEventType()]++
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			markers[m.GetMarkerName()]++
		}
		if u := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); u != nil {
			if _, ok := u.GetSearchAttributes().GetIndexedFields()["TemporalChangeVersion"]; ok {
				changeVersionUpserts++
			}
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			activities[a.GetActivityType().GetName()]++
		}
	}
	t.Logf("typical lifecycle: %d history events, %d bytes (%d workflow tasks, %d activities, %d markers)", n, size,
		counts[enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED], counts[enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
		counts[enumspb.EVENT_TYPE_MARKER_RECORDED])
	assert.LessOrEqual(t, n, maxTypicalEvents)
	assert.LessOrEqual(t, size, maxTypicalBytes)
	bench := n + benchOpenExtraEvents(hist)
	t.Logf("typical lifecycle as the bench drives it (opened by the API's open Update): %d history events", bench)
	assert.LessOrEqual(t, bench, maxBenchTypicalEvents)
	require.NotZero(t, n)
	assert.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, hist.Events[n-1].GetEventType())
	assert.Equal(t, 5, counts[enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED], "four decisions and the survey")
	assert.Empty(t, activities, "the emails go with their record into the outbox; no RecordTransition activity")
	// Six transitions recorded locally (the survey's send is none), one
	// AssignOwner per tier entered; a batch of queued records would be fewer.
	assert.LessOrEqual(t, markers["LocalActivity"], 6+2)
	assert.GreaterOrEqual(t, markers["LocalActivity"], 2+2)
	// No timer wakes the case: none sends the survey, and the resolution replaces
	// the tier clock's timer (restsPastTimer) by the survey reminder's.
	assert.Zero(t, counts[enumspb.EVENT_TYPE_TIMER_FIRED], "timers fired")
	assert.Equal(t, 2, counts[enumspb.EVENT_TYPE_TIMER_STARTED], "the opening's acknowledge deadline (its warning goes from the outbox), the survey reminder")
	// Each patch the run meets costs a marker and a search attribute upsert; a
	// run with a code level (CaseInput.Code) asks none for its run-wide changes.
	// Keep patches off the typical path.
	assert.Zero(t, markers["Version"], "patches on the typical path")
	assert.Zero(t, changeVersionUpserts, "TemporalChangeVersion upserts")
}

// benchOpenExtraEvents is what the bench's typical case costs more than the
// fixture: the bench opens it as the API does, with the open Update sent with
// the start (its accepted and completed events), and its first decision then
// comes in a workflow task of its own (three events), unless it already does in
// the fixture.
func benchOpenExtraEvents(hist *historypb.History) int {
	const openUpdate, ownTask = 2, 3
	var tasks []int64
	for _, ev := range hist.Events {
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			tasks = append(tasks, ev.GetEventId())
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			if len(tasks) == 1 { // accepted by the first workflow task, with the start
				return openUpdate + ownTask
			}
			return openUpdate
		}
	}
	return openUpdate
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
