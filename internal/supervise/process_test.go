package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shell is a process running script, ready once it has written the file ready.
func shell(t *testing.T, script string) (*Process, string) {
	t.Helper()
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	p := New(Spec{
		Name: "child", Path: "/bin/sh", Args: []string{"-c", script},
		Env: []string{"READY=" + ready}, LogFile: filepath.Join(dir, "child.log"),
		Ready: func(context.Context) error {
			_, err := os.Stat(ready)
			return err
		},
		Grace: 300 * time.Millisecond,
	})
	t.Cleanup(func() { _ = p.Kill() })
	return p, ready
}

func TestStartStopStartAgain(t *testing.T) {
	ctx := context.Background()
	p, ready := shell(t, `echo hello; touch "$READY"; exec sleep 30`)
	assert.False(t, p.Running())
	require.NoError(t, p.Start(ctx))
	assert.True(t, p.Running())
	assert.ErrorIs(t, p.Start(ctx), ErrRunning)
	first := p.Pid()

	require.NoError(t, p.Stop())
	assert.False(t, p.Running())
	require.NoError(t, p.Stop(), "stopping a stopped process does nothing")

	require.NoError(t, os.Remove(ready))
	require.NoError(t, p.Start(ctx))
	assert.NotEqual(t, first, p.Pid())
	assert.Contains(t, p.Tail(10), "hello")
	log, err := os.ReadFile(p.LogFile())
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(log), "\nhello\n"), "the log keeps both runs")
}

func TestKillEndsAGroupThatIgnoresSIGINT(t *testing.T) {
	p, _ := shell(t, `trap '' INT; touch "$READY"; sleep 30 & wait`)
	require.NoError(t, p.Start(context.Background()))
	begin := time.Now()
	require.NoError(t, p.Kill())
	assert.Less(t, time.Since(begin), 5*time.Second)
	assert.False(t, p.Running())
	assert.Error(t, p.ExitErr(), "killed")
}

func TestStopReportsAKill(t *testing.T) {
	p, _ := shell(t, `trap '' INT; touch "$READY"; sleep 30 & wait`)
	require.NoError(t, p.Start(context.Background()))
	assert.ErrorContains(t, p.Stop(), "did not stop")
}

func TestStartReportsAnEarlyExitWithTheLog(t *testing.T) {
	p, _ := shell(t, `echo "config is broken" >&2; exit 3`)
	err := p.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited during start")
	assert.Contains(t, err.Error(), "config is broken")
}

func TestStartGivesUpWhenNeverReady(t *testing.T) {
	p, _ := shell(t, `exec sleep 30`)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := p.Start(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	assert.False(t, p.Running(), "a process that never got ready is not left behind")
}
