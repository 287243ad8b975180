package procgroup

import (
	"bufio"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start runs script in its own group and returns once it has printed its first line.
func start(t *testing.T, script string) (int, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = Attr()
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(out)
	require.True(t, lines.Scan(), "the child says it is ready")
	exited := make(chan struct{})
	go func() {
		for lines.Scan() {
		}
		_ = cmd.Wait()
		close(exited)
	}()
	return cmd.Process.Pid, exited
}

func TestStopInterruptsTheGroup(t *testing.T) {
	pid, exited := start(t, "echo ready; exec sleep 30")
	assert.True(t, Stop(pid, exited, 5*time.Second), "sleep ends on SIGINT")
}

func TestStopKillsAGroupThatIgnoresTheInterrupt(t *testing.T) {
	pid, exited := start(t, "trap '' INT; sleep 30 & echo ready; wait")
	begin := time.Now()
	assert.False(t, Stop(pid, exited, 300*time.Millisecond), "the interrupt is ignored, so the group is killed")
	assert.Less(t, time.Since(begin), 5*time.Second)
}

func TestStopAfterExitIsGraceful(t *testing.T) {
	pid, exited := start(t, "echo ready")
	<-exited
	assert.True(t, Stop(pid, exited, time.Second))
}
