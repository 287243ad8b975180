//go:build linux

package procgroup

import "syscall"

// Attr puts the child in a process group of its own (so Stop reaches its children
// too) and, on Linux, has the kernel end it when its parent dies.
func Attr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
