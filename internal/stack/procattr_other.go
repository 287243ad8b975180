//go:build unix && !linux

package stack

import (
	"errors"
	"syscall"
)

// procAttr puts a child in its own process group (stopping it reaches everything it
// started).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// peakRSS needs /proc: only Linux has it.
func peakRSS(int) (int64, error) {
	return 0, errors.New("peak rss is only read on linux (/proc/<pid>/status)")
}
