package temporaldev_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow/internal/searchattrs"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/workflows"
)

func TestStartRegistersEverySearchAttribute(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := temporaldev.StartForTest(t)
	assert.Empty(t, s.UIURL(), "tests run without the UI")

	c, err := s.Dial(ctx, nil)
	require.NoError(t, err)
	defer c.Close()
	resp, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: s.Namespace()})
	require.NoError(t, err)

	want := map[string]enums.IndexedValueType{
		"Int": enums.INDEXED_VALUE_TYPE_INT, "Keyword": enums.INDEXED_VALUE_TYPE_KEYWORD,
		"Bool": enums.INDEXED_VALUE_TYPE_BOOL, "Datetime": enums.INDEXED_VALUE_TYPE_DATETIME,
		"Text": enums.INDEXED_VALUE_TYPE_TEXT, "Double": enums.INDEXED_VALUE_TYPE_DOUBLE,
		"KeywordList": enums.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	}
	require.NotEmpty(t, workflows.SearchAttributeTypes)
	for _, sa := range workflows.SearchAttributeTypes {
		typ, ok := want[sa[1]]
		require.True(t, ok, "unknown search attribute type %q for %s", sa[1], sa[0])
		assert.Equal(t, typ, resp.GetCustomAttributes()[sa[0]], "search attribute %s", sa[0])
	}
	missing, err := searchattrs.Missing(ctx, c, s.Namespace())
	require.NoError(t, err)
	assert.Empty(t, missing)

	require.NoError(t, s.Stop())
	require.NoError(t, s.Stop(), "a second Stop is harmless")
	select {
	case <-s.Exited():
	default:
		t.Fatal("Stop returned before the server exited")
	}
	_, err = net.DialTimeout("tcp", s.HostPort(), time.Second)
	assert.Error(t, err, "nothing listens on the frontend port after Stop")
}

// What `make dev` relies on: the UI answers, and a second start on the same file
// keeps the workflows of the first.
func TestFileBackedServerKeepsDataAndServesUI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbFile := filepath.Join(t.TempDir(), "temporal.db")

	first, err := temporaldev.Start(ctx, temporaldev.Options{DBFile: dbFile, Namespace: "tierflow-test", Logf: t.Logf})
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Stop() })
	assert.Equal(t, "tierflow-test", first.Namespace())
	require.NotEmpty(t, first.UIURL())
	assertUIAnswers(t, first.UIURL())

	c, err := first.Dial(ctx, nil)
	require.NoError(t, err)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "kept-across-restarts", TaskQueue: "nobody-polls-this",
	}, "SomeWorkflow")
	require.NoError(t, err)
	c.Close()
	require.NoError(t, first.Stop())

	second, err := temporaldev.Start(ctx, temporaldev.Options{DBFile: dbFile, Namespace: "tierflow-test", UIPort: temporaldev.UIDisabled})
	require.NoError(t, err)
	defer func() { assert.NoError(t, second.Stop()) }()
	c, err = second.Dial(ctx, nil)
	require.NoError(t, err)
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, "kept-across-restarts", "")
	require.NoError(t, err)
	assert.Equal(t, run.GetRunID(), desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.GetWorkflowExecutionInfo().GetStatus())
}

func assertUIAnswers(t *testing.T, base string) {
	t.Helper()
	var status int
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		status = resp.StatusCode
		return status == http.StatusOK
	}, 30*time.Second, 200*time.Millisecond, "UI at %s answered %d", base, status)
}

func TestFindCLIHonoursTemporalCLIEnv(t *testing.T) {
	t.Setenv("TEMPORAL_CLI", filepath.Join(t.TempDir(), "no-such-temporal"))
	_, err := temporaldev.FindCLI()
	require.ErrorIs(t, err, temporaldev.ErrCLINotFound)
	assert.Contains(t, err.Error(), "make temporal-cli")

	_, err = temporaldev.Start(context.Background(), temporaldev.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make temporal-cli")
}

func TestStartFailsClearlyWhenThePortIsTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = temporaldev.Start(ctx, temporaldev.Options{Port: port, UIPort: temporaldev.UIDisabled, StartTimeout: 30 * time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "temporal dev server")
	t.Log(err)
}
