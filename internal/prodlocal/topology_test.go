package prodlocal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/secrets"
)

func TestDefaultPortsAreDistinct(t *testing.T) {
	p := DefaultPorts()
	seen := map[int]string{}
	add := func(port int, what string) {
		if other, ok := seen[port]; ok {
			t.Errorf("port %d: %s and %s", port, other, what)
		}
		seen[port] = what
	}
	for _, port := range p.Temporal.All() {
		add(port, "temporal")
	}
	add(p.UI, "ui")
	for i := range 2 {
		add(p.API+i, "api")
		add(p.APIMetrics+i, "api metrics")
		add(p.WorkerMetrics+i, "worker metrics")
	}
	assert.Equal(t, 8080, p.API)
	assert.Equal(t, 8233, p.UI)
}

func TestNewTopologyNamesEveryEndpoint(t *testing.T) {
	o, err := Options{Root: "/repo"}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, "/repo/.tierflow/prod-local", o.DataDir)
	assert.Equal(t, "/repo/bin", o.BuildDir)
	topo := newTopology(o)
	assert.Equal(t, []string{"http://localhost:8080", "http://localhost:8081"}, topo.APIURLs)
	assert.Equal(t, []string{"127.0.0.1:9101", "127.0.0.1:9102"}, topo.WorkerMetrics)
	assert.Equal(t, []string{"127.0.0.1:9111", "127.0.0.1:9112"}, topo.APIMetrics)
	assert.Equal(t, "127.0.0.1:7233", topo.FrontendAddress)
	assert.Equal(t, "http://localhost:8233", topo.UIURL)
	assert.Equal(t, "http://localhost:8080/codec", topo.CodecURL, "the UI calls API 1's codec endpoint")
	assert.Empty(t, topo.Processes(), "nothing defined before Start")
}

func TestWithEnvReplaces(t *testing.T) {
	env := withEnv([]string{"A=1", "B=2", "A=3"}, "A=9", "C=4")
	assert.Equal(t, []string{"B=2", "A=9", "C=4"}, env)
}

func TestSurveyKeyIsGeneratedOnceAndKept(t *testing.T) {
	t.Setenv("TIERFLOW_SURVEY_KEY", "")
	dir := t.TempDir()
	first, err := surveyKey(dir)
	require.NoError(t, err)
	assert.Len(t, first, 64)
	again, err := surveyKey(dir)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	st, err := os.Stat(filepath.Join(dir, "survey.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	t.Setenv("TIERFLOW_SURVEY_KEY", "a-key-from-the-environment")
	k, err := surveyKey(dir)
	require.NoError(t, err)
	assert.Equal(t, "a-key-from-the-environment", k)
}

func TestCodecKeysAreGeneratedOnceAndKept(t *testing.T) {
	t.Setenv("TIERFLOW_CODEC_KEYS", "")
	dir := t.TempDir()
	first, err := codecKeys(dir)
	require.NoError(t, err)
	keys, err := codec.ParseKeyring(first)
	require.NoError(t, err, "a valid keyring")
	assert.Equal(t, []string{"prod-local-1"}, keys.KeyIDs())
	assert.False(t, secrets.IsDevValue(first), "never the documented dev key")
	again, err := codecKeys(dir)
	require.NoError(t, err)
	assert.Equal(t, first, again, "earlier runs' histories stay readable")
	st, err := os.Stat(filepath.Join(dir, "codec.keys"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	t.Setenv("TIERFLOW_CODEC_KEYS", "mine:"+first[len("prod-local-1:"):])
	k, err := codecKeys(dir)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(k, "mine:"))
}
