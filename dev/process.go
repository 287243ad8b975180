package main

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/tierflow/tierflow/internal/procgroup"
)

// console writes the prefixed lines of every component to one output, a whole
// line at a time, so that concurrent components never interleave within a line.
type console struct {
	mu  sync.Mutex
	out io.Writer
}

// printf writes one line with the component's prefix ("worker   | ...").
func (c *console) printf(component, format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, "%-8s | %s\n", component, fmt.Sprintf(format, args...))
}

// logf returns a printf-style logger for one component.
func (c *console) logf(component string) func(string, ...any) {
	return func(format string, args ...any) { c.printf(component, format, args...) }
}

// raw writes text without a prefix (the banner).
func (c *console) raw(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.out, text)
}

// child is a process started by the dev runner, in its own process group: the
// terminal's Ctrl-C reaches the runner only, which then stops children in order.
type child struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the process's exit status, set before exited is closed
}

// startChild runs path with env (the complete environment) and copies its output,
// line by line and prefixed, to the console.
func startChild(con *console, name, path string, env []string) (*child, error) {
	return startChildArgs(con, name, path, nil, env)
}

func startChildArgs(con *console, name, path string, args, env []string) (*child, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.SysProcAttr = procgroup.Attr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, path, err)
	}
	c := &child{name: name, cmd: cmd, exited: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			con.printf(name, "%s", sc.Text())
		}
	}()
	go func() {
		<-copied
		c.err = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// Pid is the child's process id (also its process group id).
func (c *child) Pid() int { return c.cmd.Process.Pid }

// stop sends SIGINT to the child's process group and waits up to grace for it to
// exit, then kills the group. It reports whether the child exited by itself.
func (c *child) stop(grace time.Duration) (graceful bool) {
	return procgroup.Stop(c.cmd.Process.Pid, c.exited, grace)
}
