package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProgramOfGroupsTheStack(t *testing.T) {
	for comm, want := range map[string]string{"temporal": "temporal", "temporal-server": "temporal",
		"postgres": "postgres", "worker": "worker", "api": "api", "bench": "bench", "go": "other", "chromium": "other"} {
		assert.Equal(t, want, programOf(comm), comm)
	}
}

func TestReadProcStatTakesTheCommWithSpaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stat")
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	line := "4242 (my worker) S 1 1 1 0 -1 0 0 0 0 0 250 50 0 0 20 0 1 0 0\n"
	require.NoError(t, os.WriteFile(path, []byte(line), 0o600))
	pid, comm, ticks, ok := readProcStat(path)
	require.True(t, ok)
	assert.Equal(t, 4242, pid)
	assert.Equal(t, "my worker", comm)
	assert.Equal(t, 300.0, ticks)
}

// The accounting sees this test's own busy loop under "other" (the test binary
// is not one of the stack's programs) and never more than the machine did.
func TestCPUSinceCountsWhatThePhaseSpent(t *testing.T) {
	start, err := takeCPUSnapshot()
	require.NoError(t, err)
	deadline := time.Now().Add(300 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	m, err := cpuSince(start)
	require.NoError(t, err)
	assert.Greater(t, m.Busy, 0.1, "a 300 ms busy loop")
	total := 0.0
	for _, v := range m.ByProgram {
		total += v
	}
	assert.InDelta(t, m.Busy, total, 0.05+0.01*m.Busy, "the programs add up to the machine's busy time")
	assert.True(t, strings.HasPrefix(m.String(), "machine busy "), m.String())
}
