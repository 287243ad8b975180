package procgroup

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockDir(dir, "dev.pid", "dev runner")
	require.NoError(t, err)
	pidFile := filepath.Join(dir, "dev.pid")
	assert.FileExists(t, pidFile)

	// Another live runner holds it.
	other := exec.Command("sleep", "30")
	require.NoError(t, other.Start())
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	require.NoError(t, os.WriteFile(pidFile, []byte(strconv.Itoa(other.Process.Pid)), 0o644))
	_, err = LockDir(dir, "dev.pid", "dev runner")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another dev runner")

	// A stale file from a runner that died is taken over.
	_ = other.Process.Kill()
	_ = other.Wait()
	unlock2, err := LockDir(dir, "dev.pid", "dev runner")
	require.NoError(t, err)
	unlock2()
	unlock()
	assert.NoFileExists(t, pidFile)
}
