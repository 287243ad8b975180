// Package procgroup starts child processes in their own process group and stops
// the whole group: SIGINT first, SIGKILL after a grace period. The dev runner, the
// Temporal dev-server harness and the test stack share it.
package procgroup

import (
	"syscall"
	"time"
)

// Stop interrupts the process group led by pid and waits up to grace for exited to
// close, then kills the group and waits. It reports whether the group stopped on
// the interrupt (true also when it had already exited).
func Stop(pid int, exited <-chan struct{}, grace time.Duration) (graceful bool) {
	select {
	case <-exited:
		return true
	default:
	}
	_ = syscall.Kill(-pid, syscall.SIGINT)
	select {
	case <-exited:
		return true
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
		return false
	}
}
