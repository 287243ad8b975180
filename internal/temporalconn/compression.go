// Package temporalconn holds how Tierflow uses its Temporal connections beyond
// the SDK's envconfig (TEMPORAL_*): the settings the worker and the API share,
// and the bench's baselines with them.
package temporalconn

import (
	"fmt"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// CompressionEnv names the gRPC compression of requests to Temporal: "none"
// (the default) or "gzip".
const CompressionEnv = "TIERFLOW_TEMPORAL_GRPC_COMPRESSION"

// Compression reads CompressionEnv. The SDK compresses every request with gzip
// unless told otherwise, and the server answers a compressed request with a
// compressed response: workflow task polls, their histories, Updates. Tierflow's
// worker and API run next to the Temporal frontend (the same cluster or
// network), where the bandwidth saved is not worth the CPU spent on both sides
// (issue 10: measured in the bench). A deployment that reaches Temporal over a
// slow or metered link (Temporal Cloud across regions) sets "gzip".
func Compression(getenv func(string) string) (client.GrpcCompression, error) {
	switch v := strings.ToLower(strings.TrimSpace(getenv(CompressionEnv))); v {
	case "", "none":
		return &client.GrpcCompressionNone{}, nil
	case "gzip":
		return &client.GrpcCompressionGzip{}, nil
	default:
		return nil, fmt.Errorf("%s=%q: want none or gzip", CompressionEnv, v)
	}
}

// HarnessCompression is the compression of the test and bench harnesses' own
// clients (the bench's baselines among them): the product's, as this process's
// environment sets it, so a baseline measures Temporal as Tierflow reaches it.
// An invalid value falls back to the default; the product refuses it at start.
func HarnessCompression() client.GrpcCompression {
	c, err := Compression(os.Getenv)
	if err != nil {
		return &client.GrpcCompressionNone{}
	}
	return c
}

// StickyScheduleToStart is how long a workflow task may wait on a worker's
// sticky queue before the server moves it to the shared queue (the SDK's default
// is 5s). Measured in issue 10's bench: under a burst of timers a task that
// waited 5s there was moved to the shared queue, which the SDK's pollers stop
// polling while their sticky queue has a backlog, and started 19 to 103 s after
// its timer (the bench's no-op baseline alike) instead of in turn. A worker that
// dies does not hold its tasks that long: the server moves them once it has seen
// no poll of the sticky queue for 10s.
const StickyScheduleToStart = 30 * time.Second

// WorkflowPollersPerQueue is how many long polls a worker keeps open for
// workflow tasks on each of the shared queue and its own sticky queue.
const WorkflowPollersPerQueue = 8

// WorkflowPollers is how a worker polls for workflow tasks: a fixed number of
// pollers for the shared queue and as many for its sticky queue, instead of
// the SDK's default pollers that share both. Measured in issue 10's bench: a
// shared poller polls only the sticky queue while the last sticky poll
// reported a backlog, a hint that stays stale while that poll waits for the
// next task (up to a minute), so after a burst the tasks moved to the shared
// queue (a sticky wait past StickyScheduleToStart, a cache eviction, a new
// case) waited 38 to 64 s with the worker idle. Separate pollers keep the
// shared queue polled whatever the sticky backlog. They are the SDK's
// autoscaling pollers held at one size: left to scale (4 to 16), they shrank
// on empty polls and drained a sticky backlog slower than 8 did (a 3,000-timer
// burst in 50.5 s against 31.6 s).
func WorkflowPollers() worker.PollerBehavior {
	return worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{
		InitialNumberOfPollers: WorkflowPollersPerQueue,
		MinimumNumberOfPollers: WorkflowPollersPerQueue,
		MaximumNumberOfPollers: WorkflowPollersPerQueue,
	})
}
