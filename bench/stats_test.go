package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func msD(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestSummarizeNearestRank(t *testing.T) {
	var sample []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		sample = append(sample, time.Duration(i)*time.Millisecond)
	}
	l := summarize(sample)
	assert.Equal(t, latency{N: 100, P50: 50, P90: 90, P99: 99, Max: 100}, l)

	assert.Equal(t, latency{N: 1, P50: 7, P90: 7, P99: 7, Max: 7}, summarize(msD(7)))
	assert.Equal(t, latency{}, summarize(nil))
	// Three values: p99 is the largest (ceil(2.97) = 3rd), p50 the second.
	assert.Equal(t, latency{N: 3, P50: 2, P90: 3, P99: 3, Max: 3}, summarize(msD(3, 1, 2)))
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0.7}, 0.7},
		{[]float64{0.9, 0.5, 0.7}, 0.7},
		{[]float64{0.9, 0.5, 0.7, 0.6}, 0.65},
	} {
		assert.InDelta(t, tc.want, median(tc.in), 1e-12, "%v", tc.in)
	}
}

func TestRatio(t *testing.T) {
	assert.Equal(t, 2.0, ratio(10, 5))
	assert.Equal(t, 0.0, ratio(10, 0), "no baseline: no ratio")
}

func TestHistogramCountsEverySampleOnce(t *testing.T) {
	a, b := msD(1, 2, 3, 50, 400), msD(10, 10, 20, 900)
	edges := logEdges(10, a, b)
	require.Len(t, edges, 11)
	assert.InDelta(t, 1.0, edges[0], 1e-9)
	assert.Greater(t, edges[10], 900.0, "the largest sample is inside the last bin")
	for i := 1; i < len(edges); i++ {
		assert.Greater(t, edges[i], edges[i-1])
		if i > 1 { // geometric: constant ratio between edges
			assert.InDelta(t, edges[1]/edges[0], edges[i]/edges[i-1], 1e-6)
		}
	}
	h := newHistogram("a", edges, a)
	total := 0
	for _, c := range h.Counts {
		total += c
	}
	assert.Equal(t, 5, total)
	assert.Equal(t, 1, h.Counts[0], "1 ms is in the first bin")
	assert.Equal(t, 1, h.Counts[len(h.Counts)-1]+h.Counts[len(h.Counts)-2], "400 ms is near the top")
	assert.Equal(t, 3.0, h.MedianMs)
	assert.Equal(t, 400.0, h.P99Ms)

	// A value exactly on an edge belongs to the bin that starts there.
	exact := newHistogram("x", []float64{1, 10, 100}, msD(10))
	assert.Equal(t, []int{0, 1}, exact.Counts)

	assert.Nil(t, logEdges(10), "no samples, no edges")
	assert.Empty(t, newHistogram("none", nil, nil).Counts)
}

func TestOverTimeBuckets(t *testing.T) {
	samples := []timedSample{
		{At: 0.5, Value: 100 * time.Millisecond}, {At: 9.9, Value: 300 * time.Millisecond},
		{At: 25, Value: 2 * time.Second}, {At: -1, Value: time.Millisecond}, // before 0 counts in the first bucket
	}
	got := overTime(samples, 10)
	require.Len(t, got, 2)
	assert.Equal(t, bucketPoint{StartS: 0, N: 3, P50Ms: 100, P99Ms: 300, MaxMs: 300}, got[0])
	assert.Equal(t, bucketPoint{StartS: 20, N: 1, P50Ms: 2000, P99Ms: 2000, MaxMs: 2000}, got[1])
	assert.Nil(t, overTime(samples, 0))
	assert.Equal(t, 10.0, steadyBucket(10*time.Minute))
	assert.Equal(t, 1.0, steadyBucket(30*time.Second), "at least a second")
}

func TestDrainCurve(t *testing.T) {
	after := make([]time.Duration, 1000)
	for i := range after {
		after[i] = time.Duration(999-i) * 10 * time.Millisecond
	}
	c := newDrainCurve("cases", after, 100)
	require.Len(t, c.Done, 100)
	assert.Equal(t, 10, c.Done[0])
	assert.Equal(t, 1000, c.Done[len(c.Done)-1], "the last one is always on the curve")
	assert.InDelta(t, 9.99, c.Seconds[len(c.Seconds)-1], 1e-9)
	assert.IsNonDecreasing(t, c.Seconds)

	odd := newDrainCurve("odd", msD(5, 1, 3, 4, 2), 2)
	assert.Equal(t, []int{2, 4, 5}, odd.Done, "the last one is added when the step skips it")
	assert.Equal(t, []float64{0.002, 0.004, 0.005}, odd.Seconds)
	assert.Empty(t, newDrainCurve("none", nil, 100).Done)
}
