package main

import (
	"math"
	"slices"
	"time"
)

// millis is a duration in milliseconds, as the JSON report writes them.
type millis float64

func ms(d time.Duration) millis { return millis(float64(d) / float64(time.Millisecond)) }

// latency summarises a sample of durations.
type latency struct {
	N   int    `json:"n"`
	P50 millis `json:"p50_ms"`
	P90 millis `json:"p90_ms"`
	P99 millis `json:"p99_ms"`
	Max millis `json:"max_ms"`
}

// summarize computes nearest-rank percentiles of sample (which it sorts).
func summarize(sample []time.Duration) latency {
	if len(sample) == 0 {
		return latency{}
	}
	slices.Sort(sample)
	return latency{N: len(sample), P50: ms(nearestRank(sample, 0.50)), P90: ms(nearestRank(sample, 0.90)),
		P99: ms(nearestRank(sample, 0.99)), Max: ms(sample[len(sample)-1])}
}

// nearestRank is the p-quantile (0 < p <= 1) of a sorted, non-empty sample: the
// smallest value with at least p of the sample at or below it.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// median of values (which it sorts); the mean of the middle two for an even count,
// 0 for none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	slices.Sort(values)
	n := len(values)
	if n%2 == 1 {
		return values[n/2]
	}
	return (values[n/2-1] + values[n/2]) / 2
}

// perSecond is n per d.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ratio is a over b, 0 when b is not positive (the report prints it as missing).
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// histogram counts samples in bins whose edges grow geometrically, so that a 5 ms
// and a 500 ms sample are both resolved. Counts[i] counts [Edges[i], Edges[i+1]).
type histogram struct {
	Name     string    `json:"name"`
	EdgesMs  []float64 `json:"edges_ms"`
	Counts   []int     `json:"counts"`
	Total    int       `json:"total"`
	MedianMs float64   `json:"p50_ms"`
	P99Ms    float64   `json:"p99_ms"`
}

// logEdges returns bins+1 edges from lo to hi (lo, hi > 0), evenly spaced on a
// log scale; lo and hi are widened to include every sample of samples.
func logEdges(bins int, samples ...[]time.Duration) []float64 {
	lo, hi := math.Inf(1), 0.0
	for _, s := range samples {
		for _, d := range s {
			v := float64(ms(d))
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi <= 0 || bins < 1 {
		return nil
	}
	lo = math.Max(lo, 0.1) // sub-0.1 ms samples fall in the first bin
	hi = math.Max(hi*1.0001, lo*1.01)
	edges := make([]float64, bins+1)
	step := math.Log(hi/lo) / float64(bins)
	for i := range edges {
		edges[i] = lo * math.Exp(step*float64(i))
	}
	edges[0], edges[bins] = lo, hi
	return edges
}

// newHistogram bins sample (it sorts it) on edges; samples outside go to the end
// bins.
func newHistogram(name string, edges []float64, sample []time.Duration) histogram {
	h := histogram{Name: name, EdgesMs: edges, Total: len(sample)}
	if len(edges) < 2 {
		return h
	}
	h.Counts = make([]int, len(edges)-1)
	for _, d := range sample {
		v := float64(ms(d))
		i, _ := slices.BinarySearch(edges, v) // edges[i-1] < v <= edges[i], or v == edges[i]
		if i < len(edges) && edges[i] == v {
			i++
		}
		h.Counts[max(0, min(i-1, len(h.Counts)-1))]++
	}
	if len(sample) > 0 {
		s := summarize(sample)
		h.MedianMs, h.P99Ms = float64(s.P50), float64(s.P99)
	}
	return h
}

// timedSample is one measurement placed in time: At is seconds since the start of
// its phase (for lateness: when the deadline fell).
type timedSample struct {
	At    float64
	Value time.Duration
}

// bucketPoint summarises the samples of one time bucket.
type bucketPoint struct {
	StartS float64 `json:"start_s"`
	N      int     `json:"n"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// overTime groups samples into buckets of width seconds from 0 and summarises each
// non-empty bucket, in time order.
func overTime(samples []timedSample, width float64) []bucketPoint {
	if width <= 0 {
		return nil
	}
	groups := map[int][]time.Duration{}
	for _, s := range samples {
		i := int(math.Floor(math.Max(s.At, 0) / width))
		groups[i] = append(groups[i], s.Value)
	}
	keys := make([]int, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]bucketPoint, 0, len(keys))
	for _, k := range keys {
		s := summarize(groups[k])
		out = append(out, bucketPoint{StartS: float64(k) * width, N: s.N, P50Ms: float64(s.P50), P99Ms: float64(s.P99), MaxMs: float64(s.Max)})
	}
	return out
}

// drainCurve is how many of a burst were done by each instant: Seconds[i] (after
// the burst's instant) is when the (i+1)-th finished, thinned to at most points
// points (the last one always kept).
type drainCurve struct {
	Name    string    `json:"name"`
	Seconds []float64 `json:"seconds"`
	Done    []int     `json:"done"`
}

// newDrainCurve builds the curve from each item's time after the instant (it sorts
// them).
func newDrainCurve(name string, after []time.Duration, points int) drainCurve {
	c := drainCurve{Name: name}
	slices.Sort(after)
	n := len(after)
	if n == 0 || points < 2 {
		return c
	}
	step := max(1, n/points)
	for i := step - 1; i < n; i += step {
		c.Seconds, c.Done = append(c.Seconds, after[i].Seconds()), append(c.Done, i+1)
	}
	if c.Done[len(c.Done)-1] != n {
		c.Seconds, c.Done = append(c.Seconds, after[n-1].Seconds()), append(c.Done, n)
	}
	return c
}
