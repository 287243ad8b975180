package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/stack"
	"github.com/tierflow/tierflow/internal/temporaldev"
)

// TestTimerBurstDrainsPromptly runs the burst's baseline on a real dev server with
// the bench's baseline worker, a few bursts in a row as in a run: each must drain
// within seconds. A run once reported 61 s for 200 timers (five workflows waited a
// whole long poll), which made the burst's ratio meaningless.
func TestTimerBurstDrainsPromptly(t *testing.T) {
	srv := temporaldev.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := srv.Dial(ctx, nil)
	require.NoError(t, err)
	defer c.Close()
	stop, err := startBaselineWorker(c)
	require.NoError(t, err)
	defer stop()
	b := &bench{cfg: config{Concurrency: 8}, runID: "test", stack: &stack.Stack{Temporal: c, RawTemporal: c},
		logf: t.Logf}
	for round := range 3 {
		b.runID = fmt.Sprintf("test%d", round)
		r, err := b.runTimerBurst(ctx, 200, 100)
		require.NoError(t, err)
		assert.Less(t, r.DrainSeconds, 10.0, "round %d: %s", round, formatTimeline(r.Slowest))
	}
}
