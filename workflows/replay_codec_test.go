package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/secrets"
)

// The fixtures were recorded with plaintext payloads, like the histories of the
// cases in flight when a deployment turns encryption on: a worker with the codec
// (TIERFLOW_CODEC_KEYS) must replay them all, its codec passing plaintext through.
func TestReplayHistoriesThroughTheCodec(t *testing.T) {
	key, err := secrets.RandomKey(codec.KeySize)
	require.NoError(t, err)
	keys, err := codec.ParseKeyring("replay-1:" + key)
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
				DataConverter: codec.DataConverter(keys), FailureConverter: codec.FailureConverter(keys),
			})
			require.NoError(t, err)
			replayer.RegisterWorkflowWithOptions(CaseWorkflow, workflow.RegisterOptions{Name: WorkflowName})
			replayer.RegisterWorkflowWithOptions(MailerWorkflow, workflow.RegisterOptions{Name: MailerWorkflowName})
			replayer.RegisterWorkflowWithOptions(PolicyMigrationWorkflow, workflow.RegisterOptions{Name: PolicyMigrationWorkflowName})
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, file))
		})
	}
}
