package e2e

import "syscall"

// procAttr puts a child in its own process group (stopping it reaches everything it
// started) and has the kernel stop it when the test binary dies without cleaning
// up (killed on timeout).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
