//go:build unix && !linux

package main

import "syscall"

// procAttr puts a child in its own process group (Ctrl-C in a terminal reaches the
// runner only, which stops the children in order).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
