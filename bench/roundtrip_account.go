package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// roundTripAccount is where a timed decision's time went, as means over the
// timed calls: the decision as the client saw it; the API's handling of it (its
// request histogram: the signed Update, its answer, the record read back); the
// case's workflow tasks in the worker (the SDK's histogram: validator, handler,
// the record, the answer); the record alone (the RecordTransition local
// activity); and the raw Updates of the same turns. The differences are the
// steps a decision takes that a raw Update does not: HTTP between the client and
// the API, the API's own work and its read, and the worker's. Means, not
// percentiles: the histograms give sums and counts.
type roundTripAccount struct {
	DecisionMs     millis `json:"decision_mean_ms"`
	APIMs          millis `json:"api_mean_ms"`
	WorkflowTaskMs millis `json:"workflow_task_mean_ms"`
	WorkflowTasks  int    `json:"workflow_tasks"` // the case's workflow tasks over the timed decisions
	RecordMs       millis `json:"record_mean_ms"`
	Records        int    `json:"records"`
	RawUpdateMs    millis `json:"raw_update_mean_ms"`
	RawLocalMs     millis `json:"raw_update_with_local_activity_mean_ms"`
}

// The histograms the account reads: the API's decisions, the case workflow's
// tasks and its RecordTransition local activity (the SDK's, in the worker).
var (
	apiDecisions = histogramKey{"tierflow_api_request_duration_seconds", "route", "POST /v1/cases/{id}/decisions"}
	caseTasks    = histogramKey{"temporal_workflow_task_execution_latency_seconds", "workflow_type", "CaseWorkflow"}
	caseRecords  = histogramKey{"temporal_local_activity_execution_latency_seconds", "activity_type", "RecordTransition"}
)

// histogramKey names one series of a Prometheus histogram by one label.
type histogramKey struct{ name, label, value string }

// histogramTotal is a histogram series' _sum and _count.
type histogramTotal struct{ sum, count float64 }

func (t histogramTotal) since(before histogramTotal) (meanMs millis, n int) {
	n = int(t.count - before.count)
	if n <= 0 {
		return 0, 0
	}
	return millis((t.sum - before.sum) / float64(n) * 1000), n
}

// histogramTotals reads the _sum and _count of each key from the Prometheus
// text format, adding up the series whose label matches (a key absent reads 0).
func histogramTotals(r io.Reader, keys ...histogramKey) (map[histogramKey]histogramTotal, error) {
	out := make(map[histogramKey]histogramTotal, len(keys))
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range keys {
			var sum bool
			switch {
			case strings.HasPrefix(line, k.name+"_sum{"):
				sum = true
			case strings.HasPrefix(line, k.name+"_count{"):
			default:
				continue
			}
			end := strings.LastIndex(line, "}")
			if end < 0 || !strings.Contains(line[:end], k.label+`="`+k.value+`"`) {
				continue
			}
			fields := strings.Fields(line[end+1:])
			if len(fields) == 0 {
				continue
			}
			v, err := strconv.ParseFloat(fields[0], 64)
			if err != nil {
				return nil, fmt.Errorf("histogram %s: %w", k.name, err)
			}
			t := out[k]
			if sum {
				t.sum += v
			} else {
				t.count += v
			}
			out[k] = t
		}
	}
	return out, sc.Err()
}

// scrapeHistograms reads keys from the Prometheus endpoint url.
func scrapeHistograms(ctx context.Context, url string, keys ...histogramKey) (totals map[histogramKey]histogramTotal, err error) {
	err = readMetrics(ctx, url, func(r io.Reader) error {
		totals, err = histogramTotals(r, keys...)
		return err
	})
	return totals, err
}

// accountScrape is the histograms of the API and the worker at one moment.
type accountScrape struct {
	api, worker map[histogramKey]histogramTotal
}

func (b *bench) scrapeAccount(ctx context.Context) (accountScrape, error) {
	api, err := scrapeHistograms(ctx, b.stack.APIMetricsURL, apiDecisions)
	if err != nil {
		return accountScrape{}, fmt.Errorf("the API's metrics: %w", err)
	}
	worker, err := scrapeHistograms(ctx, b.stack.WorkerMetricsURL, caseTasks, caseRecords)
	if err != nil {
		return accountScrape{}, fmt.Errorf("the worker's metrics: %w", err)
	}
	return accountScrape{api, worker}, nil
}

// accountFor is the account of the timed calls between two scrapes.
func accountFor(before, after accountScrape, decisions, raw, rawLocal []time.Duration) roundTripAccount {
	a := roundTripAccount{DecisionMs: mean(decisions), RawUpdateMs: mean(raw), RawLocalMs: mean(rawLocal)}
	a.APIMs, _ = after.api[apiDecisions].since(before.api[apiDecisions])
	a.WorkflowTaskMs, a.WorkflowTasks = after.worker[caseTasks].since(before.worker[caseTasks])
	a.RecordMs, a.Records = after.worker[caseRecords].since(before.worker[caseRecords])
	return a
}

func mean(sample []time.Duration) millis {
	if len(sample) == 0 {
		return 0
	}
	var total time.Duration
	for _, d := range sample {
		total += d
	}
	return ms(total / time.Duration(len(sample)))
}
