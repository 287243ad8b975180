package temporalfull

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// value walks a decoded YAML document along keys.
func value(t *testing.T, doc map[string]any, keys ...string) any {
	t.Helper()
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "%v: not a map at %q", keys, k)
		cur, ok = m[k]
		require.True(t, ok, "%v: no %q", keys, k)
	}
	return cur
}

func TestServerConfigRender(t *testing.T) {
	cfg := ServerConfig{
		Ports:             DefaultPorts(),
		Postgres:          Postgres{Port: 54321, User: "postgres"},
		DynamicConfigFile: "/data/temporal/config/dynamicconfig.yaml",
	}
	b, err := cfg.Render()
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))

	assert.Equal(t, "postgres-default", value(t, doc, "persistence", "defaultStore"))
	assert.Equal(t, "postgres-visibility", value(t, doc, "persistence", "visibilityStore"))
	assert.EqualValues(t, 4, value(t, doc, "persistence", "numHistoryShards"))
	for store, db := range map[string]string{"postgres-default": "temporal", "postgres-visibility": "temporal_visibility"} {
		assert.Equal(t, "postgres12", value(t, doc, "persistence", "datastores", store, "sql", "pluginName"))
		assert.Equal(t, db, value(t, doc, "persistence", "datastores", store, "sql", "databaseName"))
		assert.Equal(t, "127.0.0.1:54321", value(t, doc, "persistence", "datastores", store, "sql", "connectAddr"))
		assert.Equal(t, "postgres", value(t, doc, "persistence", "datastores", store, "sql", "user"))
	}
	for svc, port := range map[string]int{"frontend": 7233, "history": 7234, "matching": 7235, "worker": 7239} {
		assert.EqualValues(t, port, value(t, doc, "services", svc, "rpc", "grpcPort"), svc)
		assert.Equal(t, true, value(t, doc, "services", svc, "rpc", "bindOnLocalHost"), svc)
	}
	assert.EqualValues(t, 7243, value(t, doc, "services", "frontend", "rpc", "httpPort"))
	assert.Equal(t, ClusterName, value(t, doc, "clusterMetadata", "currentClusterName"))
	assert.Equal(t, "127.0.0.1:7233", value(t, doc, "clusterMetadata", "clusterInformation", ClusterName, "rpcAddress"))
	assert.Equal(t, "127.0.0.1:8000", value(t, doc, "global", "metrics", "prometheus", "listenAddress"))
	assert.Equal(t, cfg.DynamicConfigFile, value(t, doc, "dynamicConfigClient", "filepath"))
	assert.Equal(t, "warn", value(t, doc, "log", "level"))
}

func TestServerConfigRenderNeedsPorts(t *testing.T) {
	_, err := ServerConfig{DynamicConfigFile: "x"}.Render()
	assert.Error(t, err)
	_, err = ServerConfig{Ports: DefaultPorts(), Postgres: Postgres{Port: 5432}}.Render()
	assert.ErrorContains(t, err, "dynamic config")
}

func TestServerConfigRefusesMembershipPortsThatPostgresCannotStore(t *testing.T) {
	ports := DefaultPorts()
	ports.HistoryMembership = 37235
	_, err := ServerConfig{Ports: ports, Postgres: Postgres{Port: 5432}, DynamicConfigFile: "x"}.Render()
	assert.ErrorContains(t, err, "membership port 37235")
}

func TestWriteServerConfig(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, WriteServerConfig(root, ServerConfig{Ports: DefaultPorts(), Postgres: Postgres{Port: 5432}}))
	b, err := os.ReadFile(filepath.Join(root, "config", "production.yaml"))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))
	dyn := value(t, doc, "dynamicConfigClient", "filepath").(string)
	assert.Equal(t, filepath.Join(root, "config", "dynamicconfig.yaml"), dyn)
	b, err = os.ReadFile(dyn)
	require.NoError(t, err)
	var dynDoc map[string][]map[string]any
	require.NoError(t, yaml.Unmarshal(b, &dynDoc), "the dynamic config is a map of lists of constrained values")
	assert.Equal(t, true, dynDoc["system.forceSearchAttributesCacheRefreshOnRead"][0]["value"])
	// The transfer and timer queues poll at 1000/s, not 20 (issue 10: opens and deadlines wait for them).
	for _, key := range []string{"history.transferProcessorMaxPollRPS", "history.timerProcessorMaxPollRPS"} {
		require.Len(t, dynDoc[key], 1, key)
		assert.EqualValues(t, 1000, dynDoc[key][0]["value"], key)
	}

	assert.Equal(t, []string{"--root", root, "--config", "config", "--env", "production", "--allow-no-auth", "start"}, ServerArgs(root))
}

func TestPortsAreDistinct(t *testing.T) {
	seen := map[int]bool{}
	for _, p := range DefaultPorts().All() {
		assert.False(t, seen[p], "port %d twice", p)
		seen[p] = true
	}
}

func TestUIConfig(t *testing.T) {
	root := t.TempDir()
	cfg := UIConfig{TemporalAddress: "127.0.0.1:7233", Port: 8233}
	require.NoError(t, WriteUIConfig(root, cfg))
	b, err := os.ReadFile(filepath.Join(root, "config", "development.yaml"))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))
	assert.Equal(t, "127.0.0.1:7233", doc["temporalGrpcAddress"])
	assert.Equal(t, "127.0.0.1", doc["host"])
	assert.EqualValues(t, 8233, doc["port"])
	assert.Equal(t, true, doc["enableUi"])
	assert.Equal(t, "default", doc["defaultNamespace"])
	assert.Equal(t, "http://localhost:8233", cfg.URL())
	assert.Equal(t, []string{"--root", root, "--env", "development", "start"}, UIArgs(root))

	_, err = UIConfig{Port: 8233}.Render()
	assert.Error(t, err)
}

// With Tierflow's codec endpoint, the UI sends payloads there with the browser's
// cookies (the operator's codec session) and links to the sign-in page.
func TestUIConfigWithCodec(t *testing.T) {
	b, err := UIConfig{TemporalAddress: "127.0.0.1:7233", Port: 8233, CodecEndpoint: "http://localhost:8080/codec/"}.Render()
	require.NoError(t, err)
	var doc struct {
		Codec map[string]any `json:"codec"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	assert.Equal(t, "http://localhost:8080/codec", doc.Codec["endpoint"])
	assert.Equal(t, true, doc.Codec["includeCredentials"])
	assert.Equal(t, false, doc.Codec["passAccessToken"])
	assert.Equal(t, "http://localhost:8080/codec/login", doc.Codec["defaultErrorLink"])

	b, err = UIConfig{TemporalAddress: "127.0.0.1:7233", Port: 8233}.Render()
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &doc))
	assert.Equal(t, "", doc.Codec["endpoint"], "no codec endpoint without one")
}

// The Makefile builds the versions this package expects.
func TestMakefilePinsTheSameVersions(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	require.NoError(t, err)
	pinned := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `\s*:=\s*(\S+)`).FindSubmatch(b)
		require.NotNil(t, m, "the Makefile sets %s", name)
		return string(m[1])
	}
	assert.Equal(t, ServerVersion, pinned("TEMPORAL_SERVER_VERSION"))
	assert.Equal(t, UIServerVersion, pinned("TEMPORAL_UI_VERSION"))
	assert.Equal(t, "$(BIN)/"+ServerBinary, pinned("TEMPORAL_SERVER"))
	assert.Equal(t, "$(BIN)/"+SQLToolBinary, pinned("TEMPORAL_SQL_TOOL"))
	assert.Equal(t, "$(BIN)/"+UIServerBinary, pinned("TEMPORAL_UI_SERVER"))
}
