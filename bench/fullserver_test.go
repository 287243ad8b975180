package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/temporalfull"
)

// The full server's ports are distinct and below 32768, so its configuration renders.
func TestFreeTemporalPortsFitTheMembershipColumn(t *testing.T) {
	ports, err := freeTemporalPorts()
	require.NoError(t, err)
	seen := map[int]bool{}
	for _, p := range ports.All() {
		assert.Positive(t, p)
		assert.LessOrEqual(t, p, temporalfull.MaxMembershipPort)
		assert.False(t, seen[p], "port %d twice", p)
		seen[p] = true
	}
	_, err = temporalfull.ServerConfig{Ports: ports, Postgres: temporalfull.Postgres{Port: 5432},
		DynamicConfigFile: "dynamicconfig.yaml"}.Render()
	assert.NoError(t, err)
}

// The report names the server; an unknown -server is refused before anything starts.
func TestServerFlag(t *testing.T) {
	assert.Equal(t, "Temporal dev server in memory", serverDescription(serverDev))
	assert.Contains(t, serverDescription(serverFull), "Temporal server "+temporalfull.ServerVersion+" on PostgreSQL")
	cfg, err := parseArgs(nil)
	require.NoError(t, err)
	cfg.Server = "staging"
	err = run(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-server must be dev or full")
}
