package procgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Alive reports whether a process with this pid exists.
func Alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// LockDir makes sure one runner at a time uses dir: it writes this process's pid
// into dir/file, and refuses while another live process holds it. who names the
// runner in the error ("dev runner", "prod-local runner").
func LockDir(dir, file, who string) (unlock func(), err error) {
	path := filepath.Join(dir, file)
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && Alive(pid) {
			return nil, fmt.Errorf("another %s (pid %d) is using %s: stop it first", who, pid, dir)
		}
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return func() { _ = os.Remove(path) }, nil
}
