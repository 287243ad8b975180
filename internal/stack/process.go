package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tierflow/tierflow/internal/freeport"
	"github.com/tierflow/tierflow/internal/procgroup"
)

// Process is a product process (worker or API) run in its own process group, with
// the tail of its combined output kept for failure reports.
type Process struct {
	Name   string
	cmd    *exec.Cmd
	out    *tailBuffer
	exited chan struct{}
	err    error // exit status, set before exited is closed
}

// StartProcess runs path with exactly env. The caller stops it with Stop.
func StartProcess(name, path string, env []string) (*Process, error) {
	p := &Process{Name: name, out: &tailBuffer{max: 1 << 20}, exited: make(chan struct{})}
	p.cmd = exec.Command(path)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = procgroup.Attr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, path, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop sends SIGINT to the process group and waits up to grace for a clean exit,
// then kills the group. It reports a kill as an error; a second call does nothing.
func (p *Process) Stop(grace time.Duration) error {
	if procgroup.Stop(p.cmd.Process.Pid, p.exited, grace) {
		return nil
	}
	return fmt.Errorf("%s did not stop within %s after SIGINT: killed its process group", p.Name, grace)
}

// WaitReady polls url until it answers 200, the process exits, or ctx ends. The
// error of an exit carries the tail of the process's output.
func (p *Process) WaitReady(ctx context.Context, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	var last string
	for {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s (last answer: %s): %w\n%s", p.Name, url, last, ctx.Err(), p.Tail(40))
		case <-p.exited:
			return fmt.Errorf("%s exited during start (%v):\n%s", p.Name, p.err, p.Tail(40))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PeakRSS is the process's peak resident set size in bytes (VmHWM), while it runs.
func (p *Process) PeakRSS() (int64, error) {
	select {
	case <-p.exited:
		return 0, errors.New(p.Name + " has exited")
	default:
	}
	return peakRSS(p.Pid())
}

// Tail is the last n lines of the process's output.
func (p *Process) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.out.String(), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d earlier lines)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// tailBuffer keeps the last max bytes (about) written to it; it is safe for the
// writer goroutines of exec.Cmd. A long benchmark's logs must not grow without bound.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > b.max {
		keep := b.buf.Bytes()[b.buf.Len()/2:]
		b.buf = *bytes.NewBuffer(append([]byte(nil), keep...))
	}
	return b.buf.Write(p)
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago
// (freeport.Port: below the ephemeral range when it can).
func FreeAddr() (string, error) {
	port, err := freeport.Port()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}
