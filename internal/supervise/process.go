// Package supervise keeps a handle on a long-running child process that can be
// started, stopped, killed and started again, as the production topology's runner
// and its fault drills need: each run goes to the same log file, in a process group
// of its own, and readiness is checked by a function of the caller's choosing.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tierflow/tierflow/internal/procgroup"
)

// Spec describes how to run a process.
type Spec struct {
	Name string   // for messages ("worker-1")
	Path string   // the executable
	Args []string // its arguments
	Env  []string // its complete environment
	Dir  string   // working directory; empty means ours
	// LogFile receives stdout and stderr, appended across restarts.
	LogFile string
	// Ready reports whether the process serves (nil: started is ready).
	Ready func(ctx context.Context) error
	// Grace is how long Stop waits after SIGINT before it kills (default 30s).
	Grace time.Duration
}

// Process is a supervised child process. Its methods are safe for concurrent use.
type Process struct {
	spec Spec

	mu     sync.Mutex
	cmd    *exec.Cmd     // the current or last run; nil before the first Start
	exited chan struct{} // closed when the current run ends
	err    error         // the current run's exit status, set before exited closes
}

// New returns a handle on a process that is not running yet.
func New(spec Spec) *Process {
	if spec.Grace == 0 {
		spec.Grace = 30 * time.Second
	}
	return &Process{spec: spec}
}

// Name is the process's name.
func (p *Process) Name() string { return p.spec.Name }

// LogFile is where its output goes.
func (p *Process) LogFile() string { return p.spec.LogFile }

// ErrRunning is returned by Start when the process already runs.
var ErrRunning = errors.New("already running")

// Start runs the process and waits until Ready succeeds, the process exits, or ctx
// ends; on failure the process is stopped again and the error carries its log tail.
func (p *Process) Start(ctx context.Context) error {
	if err := p.launch(); err != nil {
		return err
	}
	if err := p.WaitReady(ctx); err != nil {
		_ = p.Kill()
		return err
	}
	return nil
}

func (p *Process) launch() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !closed(p.exited) {
		return fmt.Errorf("%s: %w (pid %d)", p.spec.Name, ErrRunning, p.cmd.Process.Pid)
	}
	log, err := os.OpenFile(p.spec.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: open its log: %w", p.spec.Name, err)
	}
	fmt.Fprintf(log, "==== %s: %s %s (started by the supervisor)\n",
		time.Now().Format(time.RFC3339), p.spec.Path, strings.Join(p.spec.Args, " "))
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env, cmd.Dir = p.spec.Env, p.spec.Dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = procgroup.Attr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s (%s): %w", p.spec.Name, p.spec.Path, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.err = cmd, exited, nil
	go func() {
		err := cmd.Wait()
		log.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

// WaitReady polls Ready until it succeeds, the process exits, or ctx ends.
func (p *Process) WaitReady(ctx context.Context) error {
	exited := p.Exited()
	if p.spec.Ready == nil {
		return nil
	}
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = p.spec.Ready(attempt)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited during start (%v); the end of %s:\n%s",
				p.spec.Name, p.ExitErr(), p.spec.LogFile, p.Tail(30))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (%v): %w; the end of %s:\n%s",
				p.spec.Name, last, ctx.Err(), p.spec.LogFile, p.Tail(30))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Running reports whether the process runs now.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !closed(p.exited)
}

// Pid is the current (or last) run's process id, 0 before the first Start.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Exited is closed when the current run ends (already closed before any Start).
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.exited
}

// ExitErr is the last run's exit status (nil while it runs or after a clean exit).
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop sends SIGINT to the process group and waits up to the grace period, then
// kills the group. It reports a kill as an error; stopping a stopped process does
// nothing.
func (p *Process) Stop() error {
	pid, exited := p.Pid(), p.Exited()
	if pid == 0 || closed(exited) {
		return nil
	}
	if procgroup.Stop(pid, exited, p.spec.Grace) {
		return nil
	}
	return fmt.Errorf("%s did not stop within %s of SIGINT: its process group was killed", p.spec.Name, p.spec.Grace)
}

// Kill sends SIGKILL to the process group (a crash, for drills) and waits for it.
func (p *Process) Kill() error {
	pid, exited := p.Pid(), p.Exited()
	if pid == 0 || closed(exited) {
		return nil
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s: %w", p.spec.Name, err)
	}
	<-exited
	return nil
}

// Restart stops the process (gracefully) and starts it again.
func (p *Process) Restart(ctx context.Context) error {
	if err := p.Stop(); err != nil {
		return err
	}
	return p.Start(ctx)
}

// Tail is the last n lines of the log file.
func (p *Process) Tail(n int) string {
	b, err := os.ReadFile(p.spec.LogFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func closed(c <-chan struct{}) bool {
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}
