package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// stickyCacheCapacity is the worker's sticky cache capacity: the SDK's default
// (worker/ does not call worker.SetStickyWorkflowCacheSize; a test keeps the
// report honest about it). Cases beyond it are evicted and replayed on their next
// task.
const stickyCacheCapacity = 10_000

// memorySample is the worker process's memory at one moment, with the number of
// workflows in its sticky cache.
type memorySample struct {
	RSS       int64 `json:"rss_bytes"`        // VmRSS
	HeapAlloc int64 `json:"heap_alloc_bytes"` // go_memstats_heap_alloc_bytes: live objects and garbage not yet collected
	// NextGC is the heap goal the last GC set: the heap it found live times
	// 1 + GCPercent/100 (plus the stacks and globals once), so its growth over
	// that factor is the live heap's growth, without the garbage that HeapAlloc
	// carries.
	NextGC int64 `json:"next_gc_bytes"`
	// GCPercent is the worker's GOGC (go_gc_gogc_percent): 200 unless its
	// environment sets GOGC (worker/main.go).
	GCPercent   float64 `json:"gogc_percent"`
	CachedCases int64   `json:"sticky_cache_size"` // temporal_sticky_cache_size
	Evictions   int64   `json:"sticky_cache_forced_evictions"`
}

// memoryResult is the worker's memory per cached case: the growth of the worker
// while a burst's cases opened (each stays in the sticky cache, idle), over the
// growth of the cache.
type memoryResult struct {
	CacheCapacity      int          `json:"sticky_cache_capacity"`
	Before             memorySample `json:"before"`
	After              memorySample `json:"after"`
	RSSPerCase         float64      `json:"rss_bytes_per_cached_case"`
	LiveHeapPerCase    float64      `json:"live_heap_bytes_per_cached_case"` // the NextGC growth over 1 + GOGC/100
	HeapAllocPerCase   float64      `json:"heap_alloc_bytes_per_cached_case"`
	EvictionsMeanwhile int64        `json:"forced_evictions_meanwhile"`
}

// perCachedCase computes the per-case figures; zero where the cache did not grow.
func perCachedCase(before, after memorySample) memoryResult {
	r := memoryResult{CacheCapacity: stickyCacheCapacity, Before: before, After: after,
		EvictionsMeanwhile: after.Evictions - before.Evictions}
	if grew := after.CachedCases - before.CachedCases; grew > 0 {
		r.RSSPerCase = float64(after.RSS-before.RSS) / float64(grew)
		r.LiveHeapPerCase = float64(after.NextGC-before.NextGC) / (1 + after.GCPercent/100) / float64(grew)
		r.HeapAllocPerCase = float64(after.HeapAlloc-before.HeapAlloc) / float64(grew)
	}
	return r
}

// sampleWorkerMemory reads the worker's VmRSS and its /metrics. The SDK reports
// its gauges every second: the caller waits that long after the last task.
func (b *bench) sampleWorkerMemory(ctx context.Context) (memorySample, error) {
	var s memorySample
	rss, err := readStatusKB(b.stack.Worker.Pid(), "VmRSS:")
	if err != nil {
		return s, err
	}
	s.RSS = rss
	var metrics map[string]float64
	if err := readMetrics(ctx, b.stack.WorkerMetricsURL, func(r io.Reader) (err error) {
		metrics, err = parseMetrics(r)
		return err
	}); err != nil {
		return s, fmt.Errorf("worker metrics: %w", err)
	}
	s.HeapAlloc, s.NextGC = int64(metrics["go_memstats_heap_alloc_bytes"]), int64(metrics["go_memstats_next_gc_bytes"])
	s.CachedCases = int64(metrics["temporal_sticky_cache_size"])
	s.GCPercent = 100 // Go's default, for a worker whose metrics do not say
	if gc, ok := metrics["go_gc_gogc_percent"]; ok && gc > 0 {
		s.GCPercent = gc
	}
	// The SDK's Prometheus naming adds _total to every counter.
	s.Evictions = int64(metrics["temporal_sticky_cache_total_forced_eviction_total"])
	return s, nil
}

// readMetrics GETs a Prometheus endpoint and hands its body to parse.
func readMetrics(ctx context.Context, url string, parse func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return parse(resp.Body)
}

// parseMetrics reads the Prometheus text format: each metric's value, the largest
// over its label sets (the worker has one worker, so one set each).
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndex(rest, "}")
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		if old, ok := out[name]; !ok || v > old {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// readStatusKB reads a "<field> <n> kB" line of /proc/<pid>/status, in bytes.
func readStatusKB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", field, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %s %q: %w", field, rest, err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", field, err)
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
