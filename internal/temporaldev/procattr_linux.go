package temporaldev

import "syscall"

// procAttr puts the server in its own process group (Ctrl-C in a terminal reaches
// the parent only, which stops the server in order) and has the kernel stop it
// when the parent dies without calling Stop (a test binary killed on timeout).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
