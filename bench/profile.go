package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// -pprof: the worker and the API serve /debug/pprof/ on their metrics address
// (TIERFLOW_PPROF=1) and the bench takes their CPU profiles while a phase runs
// (the worker's over the burst's drain and the steady window, the API's over the
// intake and the decision round trip), saves each next to the JSON report as
// bench-<timestamp>-<phase>-<process>.pprof and prints its top functions.

// profileSlice is the length of one CPU profile request. A phase's length is not
// known when it starts (a drain ends when the cases have escalated), and
// /debug/pprof/profile takes its length up front, so the capture asks for one
// slice after another until the phase ends, and merges them; the last slice
// ends at most this long after the phase.
const profileSlice = 5 * time.Second

// topFunctions is how many functions the bench prints per profile.
const topFunctions = 15

// cpuCapture takes back-to-back CPU profiles of one process until stopped.
type cpuCapture struct {
	cancel context.CancelFunc
	stopCh chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	slices [][]byte
	err    error
}

// startCPUCapture starts profiling the process whose /debug/pprof/ is at
// pprofURL (http://host:port/debug/pprof), slice seconds at a time.
func startCPUCapture(ctx context.Context, hc *http.Client, pprofURL string, slice time.Duration) *cpuCapture {
	ctx, cancel := context.WithCancel(ctx)
	c := &cpuCapture{cancel: cancel, stopCh: make(chan struct{}), done: make(chan struct{})}
	seconds := strconv.Itoa(max(1, int(slice/time.Second)))
	go func() {
		defer close(c.done)
		for {
			b, err := fetchProfile(ctx, hc, pprofURL+"/profile?seconds="+seconds)
			c.mu.Lock()
			if err != nil {
				c.err = err
			} else {
				c.slices = append(c.slices, b)
			}
			c.mu.Unlock()
			if err != nil {
				return
			}
			select {
			case <-c.stopCh:
				return
			default:
			}
		}
	}()
	return c
}

// stop ends the capture once the slice in flight is complete and returns the
// slices taken (gzipped profile.proto each).
func (c *cpuCapture) stop() ([][]byte, error) {
	close(c.stopCh)
	<-c.done
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil && !errors.Is(c.err, context.Canceled) {
		return c.slices, c.err
	}
	return c.slices, nil
}

func fetchProfile(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cpu profile: %s from %s (is TIERFLOW_PPROF set?): %s", res.Status, url, strings.TrimSpace(string(b)))
	}
	return b, nil
}

// saveProfile writes the slices as one profile at path: a single slice as it
// came, several merged by `go tool pprof -proto`.
func saveProfile(ctx context.Context, path string, slices [][]byte) error {
	switch len(slices) {
	case 0:
		return errors.New("no profile was taken")
	case 1:
		return os.WriteFile(path, slices[0], 0o644)
	}
	dir, err := os.MkdirTemp("", "tierflow-bench-pprof-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := []string{"tool", "pprof", "-proto"}
	for i, s := range slices {
		name := filepath.Join(dir, fmt.Sprintf("slice-%03d.pprof", i))
		if err := os.WriteFile(name, s, 0o644); err != nil {
			return err
		}
		args = append(args, name)
	}
	var merged, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Stdout, cmd.Stderr = &merged, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("merge %d profiles: %w: %s", len(slices), err, strings.TrimSpace(stderr.String()))
	}
	return os.WriteFile(path, merged.Bytes(), 0o644)
}

// topOf is `go tool pprof -top` of the profile at path, its n heaviest functions.
func topOf(ctx context.Context, path string, n int) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount="+strconv.Itoa(n), path).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go tool pprof -top %s: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// profiledProcess is a process the bench profiles: its name in the file name,
// and its /debug/pprof URL.
type profiledProcess struct {
	name string
	url  string
}

// theWorker and theAPI are the stack's processes as profiled: their
// /debug/pprof on their metrics address (read when the phase starts: the API's
// moves when it restarts).
func (b *bench) theWorker() profiledProcess {
	return profiledProcess{"worker", strings.TrimSuffix(b.stack.WorkerMetricsURL, "/metrics") + "/debug/pprof"}
}

func (b *bench) theAPI() profiledProcess {
	return profiledProcess{"api", strings.TrimSuffix(b.stack.APIMetricsURL, "/metrics") + "/debug/pprof"}
}

// profilePhase starts the CPU profiles of procs for phase when -pprof is set; the
// function it returns stops them (within profileSlice) and keeps them for
// saveProfiles, so that merging them takes nothing from the phases after (the
// round trip runs in the burst's quiet windows). A profile that fails is
// reported and costs the phase nothing.
func (b *bench) profilePhase(ctx context.Context, phase string, procs ...profiledProcess) func() {
	if !b.cfg.Pprof {
		return func() {}
	}
	hc := &http.Client{Timeout: profileSlice + 30*time.Second}
	captures := make([]*cpuCapture, len(procs))
	for i, p := range procs {
		captures[i] = startCPUCapture(ctx, hc, p.url, profileSlice)
	}
	began := time.Now()
	return func() {
		for i, p := range procs {
			slices, err := captures[i].stop()
			if err != nil {
				b.logf("%s: the %s's CPU profile: %v", phase, p.name, err)
			}
			if len(slices) == 0 {
				continue
			}
			b.profiles = append(b.profiles, takenProfile{phase: phase, process: p.name, slices: slices, took: time.Since(began)})
		}
	}
}

// takenProfile is one process's CPU profile over one phase (or, with heap set,
// its heap at one instant), not yet saved.
type takenProfile struct {
	phase, process string
	slices         [][]byte
	took           time.Duration
	heap           bool
}

// heapProfile takes, with -pprof, the worker's heap profile after a garbage
// collection (what its cache holds live: the burst's herd, once open), kept as
// bench-<timestamp>-<phase>-worker-heap.pprof.
func (b *bench) heapProfile(ctx context.Context, phase string) {
	if !b.cfg.Pprof {
		return
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	heap, err := fetchProfile(ctx, hc, b.theWorker().url+"/heap?gc=1")
	if err != nil {
		b.logf("%s: the worker's heap profile: %v", phase, err)
		return
	}
	b.profiles = append(b.profiles, takenProfile{phase: phase, process: "worker-heap", slices: [][]byte{heap}, heap: true})
}

// saveProfiles saves each profile taken as
// <out>/bench-<timestamp>-<phase>-<process>.pprof, next to the report, and prints
// its top functions.
func (b *bench) saveProfiles(ctx context.Context, rep *report) {
	for _, p := range b.profiles {
		path := rep.artifactBase(b.cfg.OutDir, b.stack.Root) + "-" + p.phase + "-" + p.process + ".pprof"
		if err := b.saveAndPrint(ctx, path, p.slices, p.took, p.heap); err != nil {
			b.logf("%s: the %s's CPU profile: %v", p.phase, p.process, err)
		}
	}
}

func (b *bench) saveAndPrint(ctx context.Context, path string, slices [][]byte, took time.Duration, heap bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := saveProfile(ctx, path, slices); err != nil {
		return err
	}
	top, err := topOf(ctx, path, topFunctions)
	if err != nil {
		return err
	}
	if heap {
		fmt.Printf("\nheap profile (in use): %s\n%s", path, top)
		return nil
	}
	fmt.Printf("\nCPU profile over %s: %s\n%s", took.Round(time.Second), path, top)
	return nil
}
