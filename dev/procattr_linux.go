package main

import "syscall"

// procAttr puts a child in its own process group (Ctrl-C in a terminal reaches the
// runner only, which stops the children in order) and has the kernel stop the
// child when the runner dies without stopping it (kill -9).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
