//go:build unix && !linux

package e2e

import "syscall"

// procAttr puts a child in its own process group (stopping it reaches everything it
// started).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
