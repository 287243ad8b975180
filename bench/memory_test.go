package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_memstats_heap_alloc_bytes Number of heap bytes allocated and currently in use.
# TYPE go_memstats_heap_alloc_bytes gauge
go_memstats_heap_alloc_bytes 1.2345e+07
temporal_sticky_cache_size{namespace="default",task_queue="tierflow-cases",worker_type="WorkflowWorker"} 1500
temporal_sticky_cache_size{namespace="default",task_queue="other",worker_type="WorkflowWorker"} 20
odd_metric{label="a } b"} 3
not_a_number NaNx
`
	m, err := parseMetrics(strings.NewReader(text))
	require.NoError(t, err)
	assert.Equal(t, 1.2345e7, m["go_memstats_heap_alloc_bytes"])
	assert.Equal(t, 1500.0, m["temporal_sticky_cache_size"], "the largest label set")
	assert.Equal(t, 3.0, m["odd_metric"])
	_, ok := m["not_a_number"]
	assert.False(t, ok)
}

func TestPerCachedCase(t *testing.T) {
	before := memorySample{RSS: 100 << 20, HeapAlloc: 40 << 20, NextGC: 60 << 20, GCPercent: 100, CachedCases: 1000, Evictions: 2}
	after := memorySample{RSS: 200 << 20, HeapAlloc: 90 << 20, NextGC: 160 << 20, GCPercent: 100, CachedCases: 6000, Evictions: 2}
	m := perCachedCase(before, after)
	assert.InDelta(t, float64(100<<20)/5000, m.RSSPerCase, 1e-9)
	assert.InDelta(t, float64(50<<20)/5000, m.LiveHeapPerCase, 1e-9, "at GOGC=100, half the heap goal's growth")
	after.GCPercent = 200
	assert.InDelta(t, float64(100<<20)/3/5000, perCachedCase(before, after).LiveHeapPerCase, 1e-9,
		"at GOGC=200, a third of it")
	assert.InDelta(t, float64(50<<20)/5000, m.HeapAllocPerCase, 1e-9)
	assert.Zero(t, m.EvictionsMeanwhile)
	assert.Equal(t, stickyCacheCapacity, m.CacheCapacity)

	full := perCachedCase(after, after)
	assert.Zero(t, full.RSSPerCase, "a cache that did not grow gives no figure")
}

// The report states the worker's sticky cache capacity as the SDK's default: it
// stays true only while the worker does not set one.
func TestWorkerKeepsTheSDKStickyCacheSize(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "worker", "*.go"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "SetStickyWorkflowCacheSize",
			"%s sets the sticky cache size: update stickyCacheCapacity in bench/memory.go", f)
	}
}
