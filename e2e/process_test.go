package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// child is a product process (worker or API) run by the test in its own process
// group, with its combined output kept for the failure report.
type child struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // exit status, set before exited is closed
}

// startChild runs path with exactly env and stops it (SIGINT to the group, then
// SIGKILL after grace) when the test ends.
func startChild(t *testing.T, name, path string, env []string, grace time.Duration) *child {
	t.Helper()
	c := &child{name: name, out: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(path)
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = procAttr()
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s (%s): %v", name, path, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() { c.stop(t, grace) })
	return c
}

func (c *child) stop(t *testing.T, grace time.Duration) {
	select {
	case <-c.exited:
		return
	default:
	}
	pgid := -c.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGINT)
	select {
	case <-c.exited:
	case <-time.After(grace):
		t.Logf("%s did not stop within %s after SIGINT: killing its process group", c.name, grace)
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-c.exited
	}
}

// waitReady polls url until it answers 200, the child exits, or ctx ends.
func (c *child) waitReady(ctx context.Context, url string) error {
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
			return fmt.Errorf("%s not ready at %s (last answer: %s): %w", c.name, url, last, ctx.Err())
		case <-c.exited:
			return fmt.Errorf("%s exited during start (%v)", c.name, c.err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tail is the last n lines of the child's output.
func (c *child) tail(n int) string {
	lines := strings.Split(strings.TrimRight(c.out.String(), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d earlier lines)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines of exec.Cmd.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
