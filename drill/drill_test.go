package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// Drill 1 in its short form runs with every `make test`, so CI always exercises a
// crash on the production topology: the full Temporal server on PostgreSQL, two
// workers, two APIs; one worker is killed with SIGKILL mid-load and restarted 30s
// later; every case must be accounted for (none lost, no email twice or missing,
// no audit gap, the automatic escalations on time). `make drill` runs all seven.
func TestDrillOneKillsAWorkerMidLoad(t *testing.T) {
	root, err := temporaldev.ModuleRoot()
	require.NoError(t, err)
	if _, err := temporalfull.Find(filepath.Join(root, "bin")); err != nil {
		t.Fatalf("the production topology's binaries are missing: run `make prod-local-bins` (make test does): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	require.Equal(t, 0, run(ctx, "1", true), "drill 1 accounted for every case (see the table above)")
}
