// Command bench measures Tierflow against the Temporal server it runs on, in one
// run on this machine (operations.md, "Proof"): it starts its own stack (an
// in-memory Temporal dev server, PostgreSQL, one worker, one API, dev tokens, dev
// mailbox), runs a baseline worker of no-op workflows on the same server, and
// reports each figure next to its baseline:
//
//  1. case throughput through the API vs workflows with one no-op activity;
//  2. decision round trip vs a raw Update on a parked no-op workflow;
//  3. timer precision: the lateness of the automatic escalations of a herd of cases
//     whose acknowledge deadlines fall at one instant, and the processes' peak RSS;
//  4. history events and bytes per case for the standard lifecycles.
//
// -server=full runs the stack on the full Temporal server (temporalfull.ServerVersion)
// on PostgreSQL instead, everything else unchanged.
//
// Run it with `make bench` (BENCH_FLAGS=-quick for a short run) or `go run ./bench`.
// The report is printed and written to testartifacts/bench-<timestamp>.json.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tierflow/tierflow/internal/stack"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// config holds the sizes of a run.
type config struct {
	Server      string        `json:"server"` // serverDev or serverFull
	Quick       bool          `json:"quick"`
	Cases       int           `json:"cases"`
	Concurrency int           `json:"concurrency"`
	Decisions   int           `json:"decisions"`
	TimerCases  int           `json:"timer_cases"`
	TimerAck    time.Duration `json:"timer_ack_ns"`
	Lifecycles  int           `json:"lifecycles"`
	OutDir      string        `json:"-"`
	Verbose     bool          `json:"-"`
	// lifecycleBudget is how long the lifecycles may take (generously) for them to
	// run while the herd waits for its minute.
	lifecycleBudget time.Duration
}

// bench is one run: the stack, the API client and the figures so far.
type bench struct {
	cfg   config
	runID string
	stack *stack.Stack
	api   *apiClients
	logf  func(format string, args ...any)
}

func main() {
	cfg := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags() config {
	var cfg config
	flag.StringVar(&cfg.Server, "server", serverDev, "the Temporal server: dev (the CLI's dev server, in memory) or full (the full server "+
		temporalfull.ServerVersion+" on PostgreSQL, as in production; needs `make prod-local-bins`)")
	flag.BoolVar(&cfg.Quick, "quick", false, "small sizes: finishes in under 2 minutes (the defaults: under 10)")
	flag.IntVar(&cfg.Cases, "cases", 300, "cases opened for the throughput figure")
	flag.IntVar(&cfg.Concurrency, "concurrency", 8, "concurrent API clients (and baseline starters)")
	flag.IntVar(&cfg.Decisions, "decisions", 300, "sequential decisions (and raw updates) timed")
	flag.IntVar(&cfg.TimerCases, "timer-cases", 1000, "cases in the timer herd")
	flag.DurationVar(&cfg.TimerAck, "timer-ack", 90*time.Second, "the herd's tier 1 acknowledge clock (its warning comes at half)")
	flag.IntVar(&cfg.Lifecycles, "lifecycles", 3, "cases driven through each standard lifecycle for the history figure")
	flag.StringVar(&cfg.OutDir, "out", "", "directory of the JSON report (default <repo>/testartifacts)")
	flag.BoolVar(&cfg.Verbose, "v", false, "log the stack's start")
	flag.Parse()
	if cfg.Quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := map[string]func(){
			"cases":       func() { cfg.Cases = 60 },
			"decisions":   func() { cfg.Decisions = 50 },
			"timer-cases": func() { cfg.TimerCases = 100 },
			"timer-ack":   func() { cfg.TimerAck = 8 * time.Second },
			"lifecycles":  func() { cfg.Lifecycles = 1 },
		}
		for name, apply := range quick {
			if !set[name] {
				apply()
			}
		}
	}
	cfg.lifecycleBudget = 20 * time.Second
	return cfg
}

func run(ctx context.Context, cfg config) error {
	if cfg.Cases < 1 || cfg.Concurrency < 1 || cfg.Decisions < 1 || cfg.TimerCases < 1 || cfg.Lifecycles < 1 {
		return fmt.Errorf("every size must be at least 1")
	}
	if cfg.TimerAck < 2*time.Second || cfg.TimerAck%time.Second != 0 {
		return fmt.Errorf("-timer-ack must be whole seconds, at least 2s")
	}
	opts := stack.Options{}
	switch cfg.Server {
	case serverDev:
	case serverFull:
		bins, err := findFullServer()
		if err != nil {
			return err
		}
		fullLog := func(string, ...any) {}
		if cfg.Verbose {
			fullLog = func(format string, args ...any) {
				fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format(time.TimeOnly)}, args...)...)
			}
		}
		opts.StartTemporal = startFullServer(bins, fullLog)
	default:
		return fmt.Errorf("-server must be %s or %s, not %q", serverDev, serverFull, cfg.Server)
	}
	began := time.Now()
	b := &bench{cfg: cfg, runID: "r" + strconv.FormatInt(began.Unix()%1_000_000, 36),
		logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format(time.TimeOnly)}, args...)...)
		}}
	rep := &report{StartedAt: began.UTC(), Config: cfg, Machine: readMachine()}

	policyDir, err := os.MkdirTemp("", "tierflow-bench-policies-")
	if err != nil {
		return fmt.Errorf("make a policy directory: %w", err)
	}
	defer os.RemoveAll(policyDir)
	basePolicies, err := writeBasePolicies(policyDir)
	if err != nil {
		return err
	}
	stackLog := func(string, ...any) {}
	if cfg.Verbose {
		stackLog = b.logf
	}
	opts.Logf = stackLog
	opts.Env = map[string]string{"TIERFLOW_POLICY_FILES": strings.Join(basePolicies, ",")}
	startWait := 3 * time.Minute
	if cfg.Server == serverFull {
		startWait += fullStartWait + fullNamespaceWait
	}
	b.logf("starting the stack (build, PostgreSQL, %s, worker, API)", serverDescription(cfg.Server))
	startCtx, cancel := context.WithTimeout(ctx, startWait)
	b.stack, err = stack.Start(startCtx, opts)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		if err := b.stack.Stop(); err != nil {
			b.logf("stop the stack: %v", err)
		}
	}()
	b.api = newAPIClients(b.stack.APIURL, 2*cfg.Concurrency)
	stopBaseline, err := startBaselineWorker(b.stack.Temporal)
	if err != nil {
		return err
	}
	defer stopBaseline()
	if err := b.runPhases(ctx, rep, policyDir, basePolicies); err != nil {
		for _, p := range []*stack.Process{b.stack.Worker, b.stack.API} {
			fmt.Fprintf(os.Stderr, "----- %s output (tail) -----\n%s\n", p.Name, p.Tail(60))
		}
		return err
	}
	rep.Seconds = time.Since(began).Seconds()
	rep.Machine.LoadAvgEnd = loadAvg()
	rep.print(os.Stdout)
	path, err := rep.write(cfg.OutDir, b.stack.Root)
	if err != nil {
		return err
	}
	fmt.Printf("\nJSON report: %s\n", path)
	return nil
}

// runPhases measures in the order that keeps each figure undisturbed: throughput
// and round trip on a quiet server; then the API restarts with the herd's policy,
// and the herd's cases open just before their calendar opens. The lifecycles run
// while the herd's minute approaches when they fit, after the herd otherwise.
func (b *bench) runPhases(ctx context.Context, rep *report, policyDir string, basePolicies []string) error {
	b.logf("throughput: %d cases vs %d no-op workflows, %d at a time", b.cfg.Cases, b.cfg.Cases, b.cfg.Concurrency)
	tput, err := b.measureThroughput(ctx)
	if err != nil {
		return fmt.Errorf("throughput: %w", err)
	}
	rep.Throughput = &tput

	b.logf("round trip: %d note decisions vs %d raw updates, one at a time", b.cfg.Decisions, b.cfg.Decisions)
	rt, err := b.measureRoundTrip(ctx)
	if err != nil {
		return fmt.Errorf("round trip: %w", err)
	}
	rep.RoundTrip = &rt

	herd, openEstimate := b.planHerd(tput.CasesPerSecond)
	herdPolicy, err := writeHerdPolicy(policyDir, herd)
	if err != nil {
		return err
	}
	if rep.APIEarlyPeakRSS, err = b.stack.API.PeakRSS(); err != nil {
		return err
	}
	if err := b.stack.RestartAPI(ctx, map[string]string{
		"TIERFLOW_POLICY_FILES": strings.Join(append(basePolicies, herdPolicy), ",")}); err != nil {
		return err
	}

	histories := func() error {
		b.logf("history: %d cases per lifecycle", b.cfg.Lifecycles)
		hist, err := b.measureHistories(ctx, tput.BaselineID)
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		rep.History = hist
		return nil
	}
	// The lifecycles fill the wait for the herd's minute when they fit in it; their
	// histories do not depend on what else runs.
	lifecyclesFirst := time.Until(herd.OpensAt.Add(-openEstimate)) > b.cfg.lifecycleBudget
	if lifecyclesFirst {
		if err := histories(); err != nil {
			return err
		}
	}
	b.logf("timers: %d cases, acknowledge deadline %s", b.cfg.TimerCases, herd.OpensAt.Add(herd.Ack).Format(time.TimeOnly))
	timers, err := b.measureTimers(ctx, herd, openEstimate)
	if err != nil {
		return fmt.Errorf("timers: %w", err)
	}
	rep.Timers = &timers
	if !lifecyclesFirst {
		return histories()
	}
	return nil
}
