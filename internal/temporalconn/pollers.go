package temporalconn

import (
	"time"

	"go.temporal.io/sdk/worker"
)

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
