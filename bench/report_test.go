package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lastLineRE is issue 10's form of the last line.
var lastLineRE = regexp.MustCompile(`^bench: intake ratio (\S+); open p99 ratio (\S+); decision p99 ratio (\S+); ` +
	`burst drain ratio (\S+); steady lateness p99 (\S+) ms; typical case (\S+) events (\S+) bytes$`)

// fullReport is a report with every phase, as a run leaves it.
func fullReport() *report {
	r := &report{StartedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), Config: config{Server: serverDev, BurstWait: time.Minute}}
	r.Intake = &intakeResult{Cases: 3, Concurrency: 2, Ratio: 0.731, CasesPerSecond: 29.4, BaselinePerSecond: 40.2,
		Runs:        []intakeRun{{Ratio: 0.70}, {Ratio: 0.731}, {Ratio: 0.75}},
		OpenLatency: latency{N: 3, P50: 100, P99: 454}, RawStart: latency{N: 6, P50: 20, P99: 52}, OpenP99Ratio: 454.0 / 52,
		openSample: msD(100, 200, 454), startSample: msD(20, 21, 22, 30, 40, 52), uwsSample: msD(30, 31, 60)}
	r.RoundTrip = &roundTripResult{Decisions: 2, Decision: latency{N: 2, P50: 60, P99: 135}, RawUpdate: latency{N: 2, P50: 10, P99: 25.5},
		P99Ratio: 135 / 25.5, decisionSample: msD(60, 135), rawSample: msD(10, 25), rawActivitySample: msD(30, 40),
		rawLocalSample: msD(12, 30)}
	deadline := r.StartedAt.Add(5 * time.Minute)
	r.Burst = &burstResult{Cases: 2, Deadline: deadline, Drained: true}
	r.Burst.summarizeRecords([]escalationRecord{
		{Deadline: deadline, At: deadline, RecordedAt: deadline.Add(time.Second), Mails: 3},
		{Deadline: deadline, At: deadline, RecordedAt: deadline.Add(9 * time.Second), MailsDone: deadline.Add(12 * time.Second), Mails: 3}})
	r.Burst.setBaseline(&timerBurstResult{Workflows: 2, DrainSeconds: 4, closedAfter: msD(1000, 4000)})
	r.Steady = &steadyResult{Seconds: 600, RatePerSecond: 14.7, DeadlinesPerSecond: 14.65, PreOpenSeconds: 412.4, Cases: 8820, BucketSeconds: 10,
		AckClock: "30s..15m45s by 5s (190 policies)", Warnings: 8820, WarningsInWindow: 4410,
		RecordLateness: latency{N: 8820, P50: 300, P99: 1234.6}, OverTime: []bucketPoint{{StartS: 0, N: 10, P50Ms: 200, P99Ms: 900}, {StartS: 10, N: 10, P50Ms: 300, P99Ms: 1200}}}
	r.History = []historySize{{Lifecycle: "manual escalation", EventsMean: 111, BytesMean: 48800.4},
		{Lifecycle: "automatic escalation", EventsMean: 123, BytesMean: 45000}, {Lifecycle: baselineLifecycle, EventsMean: 11, BytesMean: 1019}}
	return r
}

func TestLastLineHasIssue10sForm(t *testing.T) {
	line := fullReport().lastLine()
	assert.Equal(t, "bench: intake ratio 0.73; open p99 ratio 8.73; decision p99 ratio 5.29; burst drain ratio 3.00; "+
		"steady lateness p99 1235 ms; typical case 123 events 48800 bytes", line)
	assert.Regexp(t, lastLineRE, line)
}

// A phase that did not run leaves "n/a", in the same form.
func TestLastLineWithoutPhases(t *testing.T) {
	r := &report{}
	line := r.lastLine()
	assert.Equal(t, "bench: intake ratio n/a; open p99 ratio n/a; decision p99 ratio n/a; burst drain ratio n/a; "+
		"steady lateness p99 n/a ms; typical case n/a events n/a bytes", line)
	assert.Regexp(t, lastLineRE, line)

	r.Burst = &burstResult{DrainSeconds: 3} // no timer baseline: no ratio
	assert.Contains(t, r.lastLine(), "burst drain ratio n/a;")
}

func TestTypicalCaseIsTheLargerStandardLifecycle(t *testing.T) {
	events, size, ok := fullReport().typicalCase()
	require.True(t, ok)
	assert.Equal(t, 123.0, events, "the automatic lifecycle has more events")
	assert.Equal(t, 48800.4, size, "the manual one more bytes")
	_, _, ok = (&report{History: []historySize{{Lifecycle: baselineLifecycle, EventsMean: 11}}}).typicalCase()
	assert.False(t, ok, "the baseline alone is no case")
}

func TestReportTableAndFiles(t *testing.T) {
	r := fullReport()
	var out bytes.Buffer
	r.print(&out)
	table := out.String()
	for _, want := range []string{"1. intake (median of 3 runs of 3, 2 at a time)", "ratio 0.73 (runs 0.70 0.73 0.75)",
		"p99 ratio 8.73", "p99 ratio 5.29", "3. burst (n=2 due at one instant) drained in, s", "ratio 3.00",
		"4. steady (deadlines at 14.7/s for 10m0s (cases opened beforehand in 412s), n=8820)", "(target 14.7)",
		"4410 of 8820 warnings fell inside the window", "5. history, manual escalation"} {
		assert.Contains(t, table, want)
	}

	dir := t.TempDir()
	jsonPath, svgPath, err := r.write(dir, "")
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(jsonPath, "bench-20261120-090000.json"))
	assert.True(t, strings.HasSuffix(svgPath, "bench-20261120-090000.svg"))
	require.NotNil(t, r.Histograms)
	require.Len(t, r.Histograms.Open, 3)
	assert.Equal(t, 3, r.Histograms.Open[0].Total)
	assert.Equal(t, r.lastLine(), r.LastLine, "the JSON carries the last line")
}
