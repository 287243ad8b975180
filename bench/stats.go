package main

import (
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
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(sample))+0.999999) - 1
		return sample[max(0, min(i, len(sample)-1))]
	}
	return latency{N: len(sample), P50: ms(rank(0.50)), P90: ms(rank(0.90)), P99: ms(rank(0.99)), Max: ms(sample[len(sample)-1])}
}

// perSecond is n per d.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
