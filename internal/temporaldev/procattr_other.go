//go:build unix && !linux

package temporaldev

import "syscall"

// procAttr puts the server in its own process group (Ctrl-C in a terminal reaches
// the parent only, which stops the server in order).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
