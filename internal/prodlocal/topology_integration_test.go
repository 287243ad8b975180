//go:build prodlocal

// The production topology, for real: `make prod-local-test` (not part of `make
// test`: it needs the pinned full server, which takes several minutes to build).
// A missing binary fails the test with how to build it; it never skips.

package prodlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

func TestProdLocalTopology(t *testing.T) {
	root, err := temporaldev.ModuleRoot()
	require.NoError(t, err)
	if _, err := temporalfull.Find(filepath.Join(root, "bin")); err != nil {
		t.Fatalf("run make prod-local-bins first: %v", err)
	}
	t.Setenv("SENDGRID_API_KEY", "")
	ports, err := FreePorts()
	require.NoError(t, err)
	logs := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	topo, err := Start(ctx, Options{
		Root: root, DataDir: traversableTempDir(t), BuildDir: t.TempDir(), Ports: ports,
		Logf: func(format string, args ...any) { fmt.Fprintf(logs, format+"\n", args...) },
	})
	require.NoError(t, err, "start:\n%s", logs)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = topo.Stop()
		}
		if t.Failed() {
			t.Logf("runner output:\n%s", logs)
			for _, p := range topo.Processes() {
				t.Logf("the end of %s:\n%s", p.LogFile(), p.Tail(25))
			}
		}
	})
	require.Len(t, topo.Workers, 2)
	require.Len(t, topo.APIs, 2)

	// A case opened through API 1 is read and acknowledged through API 2.
	id := "prodlocal-" + fmt.Sprint(time.Now().UnixNano())
	body := `{"source":"prodlocal","external_id":"` + id[len("prodlocal-"):] + `",
	  "customer":{"id":"C-1","name":"Ada Lovelace","email":"ada@example.com","locale":"en"},
	  "subject":"Refund not received","description":"Paid twice.","category":"billing",
	  "priority":"high","channel":"phone","trigger":"unresolved","opened_at":"` +
		time.Now().UTC().Format(time.RFC3339) + `"}`
	begin := time.Now()
	status, answer := call(t, http.MethodPost, topo.APIURLs[0]+"/v1/cases", "dev-integration", body)
	require.Contains(t, []int{200, 201}, status, answer)
	t.Logf("opened %s through API 1 in %s", id, time.Since(begin))
	status, answer = call(t, http.MethodGet, topo.APIURLs[1]+"/v1/cases/"+id, "dev-viewer", "")
	require.Equal(t, 200, status, answer)
	begin = time.Now()
	status, answer = call(t, http.MethodPost, topo.APIURLs[1]+"/v1/cases/"+id+"/decisions", "dev-agent", `{"action":"acknowledge"}`)
	assert.Equal(t, 200, status, answer)
	t.Logf("acknowledged it through API 2 in %s", time.Since(begin))

	// Visible in Temporal's SQL visibility store through a custom search attribute.
	c, err := temporalfull.Dial(ctx, topo.FrontendAddress, Namespace)
	require.NoError(t, err)
	defer c.Close()
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: Namespace, Query: "CaseTier >= 1 AND WorkflowId = 'case-" + id + "'",
		})
		return err == nil && len(resp.GetExecutions()) == 1
	}, 30*time.Second, 500*time.Millisecond, "the case is listed with CaseTier >= 1")

	status, _ = call(t, http.MethodGet, topo.UIURL+"/", "", "")
	assert.Equal(t, 200, status, "the UI answers")

	// Payloads are encrypted: the stored memo is sealed; the UI decodes through API
	// 1's codec endpoint with the browser's credentials, and that endpoint answers
	// the UI's CORS preflight.
	desc, err := c.DescribeWorkflowExecution(ctx, "case-"+id, "")
	require.NoError(t, err)
	assert.True(t, codec.IsEncrypted(desc.GetWorkflowExecutionInfo().GetMemo().GetFields()["summary"]), "the memo is sealed")
	status, answer = call(t, http.MethodGet, topo.UIURL+"/api/v1/settings", "", "")
	require.Equal(t, 200, status, answer)
	var settings struct {
		Codec struct {
			Endpoint           string
			IncludeCredentials bool
		}
	}
	require.NoError(t, json.Unmarshal([]byte(answer), &settings), answer)
	assert.Equal(t, topo.CodecURL, settings.Codec.Endpoint)
	assert.True(t, settings.Codec.IncludeCredentials)
	preflight, err := http.NewRequest(http.MethodOptions, topo.CodecURL+"/decode", nil)
	require.NoError(t, err)
	preflight.Header.Set("Origin", topo.UIURL)
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(preflight)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, topo.UIURL, resp.Header.Get("Access-Control-Allow-Origin"))

	// A worker can be killed and started again (what the drills do). A query of a
	// case cached on the killed worker goes to its sticky queue first, so reads may
	// answer 503 until the server gives up on that queue (seconds): the case must
	// answer again within 30s.
	require.NoError(t, topo.Workers[0].Kill())
	begin = time.Now()
	require.NoError(t, topo.Workers[0].Start(ctx))
	for {
		status, answer = call(t, http.MethodGet, topo.APIURLs[0]+"/v1/cases/"+id, "dev-viewer", "")
		if status == 200 || time.Since(begin) > 30*time.Second {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	assert.Equal(t, 200, status, answer)
	t.Logf("after kill -9 of worker-1 and its restart, the case answered again in %s", time.Since(begin))

	// Stop closes every port and leaves no process.
	stopped = true
	require.NoError(t, topo.Stop())
	for _, p := range topo.Processes() {
		assert.False(t, p.Running(), p.Name())
	}
	for _, port := range allPorts(ports, topo.Postgres.Port()) {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
		}
		assert.Error(t, err, "port %d is closed", port)
	}
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "%s %s", method, url)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var pretty bytes.Buffer
	if json.Indent(&pretty, b, "", " ") == nil {
		b = pretty.Bytes()
	}
	return resp.StatusCode, string(b)
}

func allPorts(p Ports, postgres int) []int {
	ports := append(p.Temporal.All(), p.UI, postgres)
	for i := range 2 {
		ports = append(ports, p.API+i, p.APIMetrics+i, p.WorkerMetrics+i)
	}
	return ports
}

// traversableTempDir: as root, PostgreSQL runs as the postgres user, which must be
// able to enter the data folder (t.TempDir is 0700).
func traversableTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "prodlocal-test-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
