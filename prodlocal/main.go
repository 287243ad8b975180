// Command prodlocal runs the production topology on this machine (`make
// prod-local`): the full Temporal server (pinned, built from the module proxy) on
// PostgreSQL with the standalone Temporal UI, Tierflow's database on the same
// cluster, two workers and two API processes. Everything keeps its data and logs
// under the git-ignored .tierflow/prod-local/; Ctrl-C stops it all, in reverse
// order.
//
//	go run ./prodlocal          # needs `make prod-local-bins` first
//	go run ./prodlocal --fast   # the demo policy (clocks in seconds) as the APIs' default
//	go run ./prodlocal --reset  # delete .tierflow/prod-local/ first
//
// SENDGRID_API_KEY, when set, sends real email instead of keeping it in the
// mailbox; TIERFLOW_SURVEY_KEY, when set, replaces the generated survey key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/tierflow/tierflow/internal/procgroup"
	"github.com/tierflow/tierflow/internal/prodlocal"
	"github.com/tierflow/tierflow/internal/supervise"
	"github.com/tierflow/tierflow/internal/temporaldev"
)

func main() {
	var (
		fast    = flag.Bool("fast", os.Getenv("TIERFLOW_POLICY") == "fast", "make the fast demo policy the APIs' default (clocks in seconds)")
		reset   = flag.Bool("reset", false, "delete the data folder (.tierflow/prod-local/) before starting")
		dataDir = flag.String("data", "", "data and log folder (default <repo>/.tierflow/prod-local)")
	)
	flag.Parse()
	out := &console{w: os.Stdout}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, out, *fast, *reset, *dataDir); err != nil {
		interrupted := ctx.Err() != nil
		stop()
		if interrupted {
			out.printf("interrupted during start; everything started so far is stopped")
			os.Exit(130)
		}
		out.printf("error: %v", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out *console, fast, reset bool, dataDir string) error {
	root, err := temporaldev.ModuleRoot()
	if err != nil {
		return fmt.Errorf("run it from the repository (%w)", err)
	}
	if dataDir == "" {
		dataDir = filepath.Join(root, ".tierflow", "prod-local")
	}
	if reset {
		out.printf("deleting %s", dataDir)
		if err := os.RemoveAll(dataDir); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create the data folder: %w", err)
	}
	unlock, err := procgroup.LockDir(dataDir, "runner.pid", "prod-local runner")
	if err != nil {
		return err
	}
	defer unlock()

	begin := time.Now()
	topo, err := prodlocal.Start(ctx, prodlocal.Options{Root: root, DataDir: dataDir, Fast: fast, Logf: out.printf})
	if err != nil {
		return err
	}
	out.raw(banner(topo, root, time.Since(begin)))

	exited := watch(topo.Processes())
	var failure error
	select {
	case <-ctx.Done():
		out.printf("stopping everything (APIs, workers, UI, Temporal, PostgreSQL)...")
	case p := <-exited:
		failure = fmt.Errorf("%s exited unexpectedly (%v); the end of %s:\n%s", p.Name(), p.ExitErr(), p.LogFile(), p.Tail(30))
		out.printf("%v", failure)
		out.printf("stopping everything else...")
	}
	if err := topo.Stop(); err != nil {
		out.printf("stop: %v", err)
		failure = errors.Join(failure, err)
	}
	if failure == nil {
		out.printf("everything stopped")
	}
	return failure
}

// watch reports the first of ps to exit.
func watch(ps []*supervise.Process) <-chan *supervise.Process {
	first := make(chan *supervise.Process, len(ps))
	for _, p := range ps {
		go func() {
			<-p.Exited()
			first <- p
		}()
	}
	return first
}

// console writes the runner's lines, one at a time.
type console struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "prod-local | %s\n", fmt.Sprintf(format, args...))
}

func (c *console) raw(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.w, s)
}
