package temporaldev

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tierflow/tierflow/internal/freeport"
	"github.com/tierflow/tierflow/internal/temporalconn"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tierflow/tierflow/workflows"

	"github.com/tierflow/tierflow/internal/procgroup"
	"github.com/tierflow/tierflow/internal/searchattrs"
)

// UIDisabled as Options.UIPort starts the server without its Web UI.
const UIDisabled = -1

// DefaultNamespace always exists on a dev server.
const DefaultNamespace = "default"

// errExitedEarly: the server process ended before it was ready (typically a port
// taken between choosing it and binding it).
var errExitedEarly = errors.New("exited during start")

// Options configure Start.
type Options struct {
	// DBFile is the SQLite file that keeps the server's state across runs; empty
	// keeps everything in memory (lost when the server stops).
	DBFile string
	// Port is the frontend gRPC port on 127.0.0.1; 0 picks a free one.
	Port int
	// UIPort is the Web UI port; 0 picks a free one, UIDisabled turns the UI off.
	UIPort int
	// MetricsPort is the server's /metrics port; 0 lets the CLI pick one at random,
	// which may be a port the caller chose for something else and has not bound yet.
	MetricsPort int
	// Namespace is created at start when it is not "default"; empty means "default".
	Namespace string
	// SkipSearchAttributes starts the server without the project's search
	// attributes (to test the tools that register them).
	SkipSearchAttributes bool
	// CLIPath is the Temporal CLI binary; empty means FindCLI.
	CLIPath string
	// StartTimeout bounds the wait for a healthy server (default 90s).
	StartTimeout time.Duration
	// Logf receives the server's output lines; nil discards them.
	Logf func(format string, args ...any)
}

// Server is a running dev server started by Start.
type Server struct {
	cmd       *exec.Cmd
	hostPort  string
	uiURL     string
	namespace string
	logf      func(string, ...any)
	tail      *tail
	checkSAs  bool
	stopping  atomic.Bool   // set by Stop: shutdown chatter is kept in tail only
	exited    chan struct{} // closed when the process has exited
	waitErr   error         // set before exited is closed
	stopOnce  sync.Once
	stopErr   error
}

// Start runs `temporal server start-dev` with every workflows.SearchAttributeTypes
// entry registered, and returns once the frontend answers health checks and lists
// all of those attributes (a race after start otherwise fails the first upserts).
// ctx bounds the start only; Stop ends the server.
func Start(ctx context.Context, opts Options) (*Server, error) {
	cli := opts.CLIPath
	if cli == "" {
		var err error
		if cli, err = FindCLI(); err != nil {
			return nil, err
		}
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 90 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	attempts := 1
	if opts.Port == 0 || opts.UIPort == 0 {
		attempts = 3 // another process may take a "free" port before the server binds it
	}
	var err error
	for range attempts {
		var s *Server
		if s, err = startOnce(ctx, cli, opts); err == nil {
			return s, nil
		}
		if ctx.Err() != nil || !errors.Is(err, errExitedEarly) {
			break
		}
	}
	return nil, err
}

func startOnce(ctx context.Context, cli string, opts Options) (*Server, error) {
	port, err := portOrFree(opts.Port)
	if err != nil {
		return nil, err
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--log-level", "warn",
		"--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true",
		// The transfer queue's reads are limited to 20/s per shard by default, and the
		// dev server has one shard: an Update-with-Start's transfer tasks wait for
		// them. With 1000, one bench run each (issue 10): a raw Update running one
		// activity p50 99 -> 17 ms, open p99 ratio 2.72 -> 1.37.
		"--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
		// The timer queue likewise: every deadline, warning and workflow-task
		// timeout is a timer task. With 1000, deadlines falling at 19.5/s (issue
		// 10): lateness p50 373 -> 168 ms.
		"--dynamic-config-value", "history.timerProcessorMaxPollRPS=1000",
		// The dev server caches the mutable state of 8,096 workflows (the full
		// server: 128,000); past that, every timer or Update on an evicted case
		// reloads it through the server's single SQLite connection. The bench keeps
		// about 17,000 cases open (issue 10).
		"--dynamic-config-value", "history.hostLevelCacheMaxSize=128000",
		// One partition per task queue: the dev server is one process on one
		// shard, where 4 partitions only make a task wait for a poller that polls
		// another partition (the SDK's pollers spread over them).
		"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
		"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
	}
	if opts.MetricsPort > 0 {
		args = append(args, "--metrics-port", strconv.Itoa(opts.MetricsPort))
	}
	s := &Server{
		hostPort:  net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		namespace: opts.Namespace,
		logf:      opts.Logf,
		tail:      &tail{max: 30},
		checkSAs:  !opts.SkipSearchAttributes,
		exited:    make(chan struct{}),
	}
	if opts.UIPort == UIDisabled {
		args = append(args, "--headless")
	} else {
		uiPort, err := portOrFree(opts.UIPort)
		if err != nil {
			return nil, err
		}
		args = append(args, "--ui-port", strconv.Itoa(uiPort))
		s.uiURL = "http://localhost:" + strconv.Itoa(uiPort)
	}
	if opts.DBFile != "" {
		args = append(args, "--db-filename", opts.DBFile,
			// WAL keeps a file-backed server close to the in-memory one's throughput.
			"--sqlite-pragma", "journal_mode=wal",
			"--sqlite-pragma", "synchronous=normal")
	}
	if opts.Namespace != DefaultNamespace {
		args = append(args, "--namespace", opts.Namespace)
	}
	if !opts.SkipSearchAttributes {
		for _, sa := range workflows.SearchAttributeTypes {
			args = append(args, "--search-attribute", sa[0]+"="+sa[1])
		}
	}

	s.cmd = exec.Command(cli, args...)
	s.cmd.SysProcAttr = procgroup.Attr()
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("temporal dev server: %w", err)
	}
	s.cmd.Stderr = s.cmd.Stdout
	opts.Logf("temporaldev: %s %s", cli, strings.Join(args, " "))
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start temporal dev server (%s): %w", InstallHint, err)
	}
	copied := make(chan struct{})
	go s.copyOutput(out, copied)
	go func() {
		<-copied // Wait closes the pipe: read it to the end first
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	waitCtx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if err := s.waitReady(waitCtx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// HostPort is the frontend's gRPC address ("127.0.0.1:7233").
func (s *Server) HostPort() string { return s.hostPort }

// UIURL is the Web UI's base URL, empty when the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Namespace is the namespace the server was started for.
func (s *Server) Namespace() string { return s.namespace }

// Dial connects a client to the server's namespace; the SDK's own logging is
// dropped unless logger is set.
func (s *Server) Dial(ctx context.Context, logger sdklog.Logger) (client.Client, error) {
	if logger == nil {
		logger = sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: s.hostPort, Namespace: s.namespace, Logger: logger,
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: temporalconn.HarnessCompression()}})
	if err != nil {
		return nil, fmt.Errorf("dial temporal at %s: %w", s.hostPort, err)
	}
	return c, nil
}

// Stop interrupts the server (SIGINT to its process group), kills it when it has not
// exited after 15 seconds, and waits for it. Calling it twice is harmless.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		if !procgroup.Stop(s.cmd.Process.Pid, s.exited, 15*time.Second) {
			s.logf("temporaldev: server did not stop after SIGINT; it was killed")
			s.stopErr = errors.New("temporal dev server did not stop on SIGINT and was killed")
		}
	})
	return s.stopErr
}

// Exited is closed when the server process has ended (stopped or crashed).
func (s *Server) Exited() <-chan struct{} { return s.exited }

// waitReady polls until the frontend is healthy and lists all our search attributes.
func (s *Server) waitReady(ctx context.Context) error {
	var last error
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("temporal dev server %w (%v): %s", errExitedEarly, s.waitErr, s.tail.String())
		default:
		}
		if last = s.ready(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal dev server on %s not ready: %w (last error: %v): %s",
				s.hostPort, ctx.Err(), last, s.tail.String())
		case <-s.exited:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := s.Dial(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("check health: %w", err)
	}
	if !s.checkSAs {
		return nil
	}
	missing, err := searchattrs.Missing(ctx, c, s.namespace)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("search attributes not registered yet: %v", missing)
	}
	return nil
}

func (s *Server) copyOutput(r io.Reader, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		s.tail.add(line)
		if !s.stopping.Load() {
			s.logf("%s", line)
		}
	}
}

func portOrFree(port int) (int, error) {
	if port > 0 {
		return port, nil
	}
	return freeport.Port()
}

// tail keeps the last lines of the server's output for error messages.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "(no output)"
	}
	return strings.Join(t.lines, "\n")
}
