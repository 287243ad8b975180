package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tierflow/tierflow/internal/temporalconn"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The baseline: the cheapest workflows that do what a case does at its core, run by
// a worker inside this process on its own task queue of the same server. The
// product's figures are read against them.
const (
	baselineQueue    = "bench-baseline"
	noopWorkflowName = "BenchNoopActivity"
	noopActivityName = "BenchNoop"
	parkedName       = "BenchParked"
	pokeUpdate       = "poke"
	// pokeActivityUpdate runs one no-op activity before it answers, as a decision
	// runs the activity that records it.
	pokeActivityUpdate = "poke-activity"
	// pokeLocalActivityUpdate runs one no-op local activity before it answers,
	// as a decision runs the local activity that records it: the Temporal part
	// of a decision, without the database.
	pokeLocalActivityUpdate = "poke-local-activity"
	stopSignal              = "stop"
	// timerName sleeps until the instant it is given and completes: a burst of
	// them is the baseline of a burst of escalations.
	timerName = "BenchTimer"
	// openedName answers openUpdate from its first task and completes: the floor
	// of opening a case with Update-with-Start.
	openedName = "BenchOpened"
	openUpdate = "open"
)

// noopWorkflow runs one activity that does nothing: the throughput ceiling the
// design measures the product against (operations.md).
func noopWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	return workflow.ExecuteActivity(ctx, noopActivityName).Get(ctx, nil)
}

func noopActivity(context.Context) error { return nil }

// parkedWorkflow waits for the stop signal and answers the poke update at once (the
// raw Update round trip that a decision is compared with), the poke-activity
// update after one no-op activity and the poke-local-activity update after one
// no-op local activity.
func parkedWorkflow(ctx workflow.Context) (int, error) {
	pokes := 0
	if err := workflow.SetUpdateHandler(ctx, pokeUpdate, func(ctx workflow.Context, note string) (int, error) {
		pokes++
		return pokes, nil
	}); err != nil {
		return 0, err
	}
	if err := workflow.SetUpdateHandler(ctx, pokeActivityUpdate, func(ctx workflow.Context, note string) (int, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
		if err := workflow.ExecuteActivity(ctx, noopActivityName).Get(ctx, nil); err != nil {
			return 0, err
		}
		pokes++
		return pokes, nil
	}); err != nil {
		return 0, err
	}
	if err := workflow.SetUpdateHandler(ctx, pokeLocalActivityUpdate, func(ctx workflow.Context, note string) (int, error) {
		ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		if err := workflow.ExecuteLocalActivity(ctx, noopActivity).Get(ctx, nil); err != nil {
			return 0, err
		}
		pokes++
		return pokes, nil
	}); err != nil {
		return 0, err
	}
	workflow.GetSignalChannel(ctx, stopSignal).Receive(ctx, nil)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return pokes, err
	}
	return pokes, nil
}

// timerWorkflow sleeps until fireAt and completes: what a case does at a deadline,
// less everything a case does about it.
func timerWorkflow(ctx workflow.Context, fireAt time.Time) error {
	if d := fireAt.Sub(workflow.Now(ctx)); d > 0 {
		return workflow.Sleep(ctx, d)
	}
	return nil
}

// openedWorkflow answers the open update with a first state and completes once it
// has.
func openedWorkflow(ctx workflow.Context) (int, error) {
	answered := false
	if err := workflow.SetUpdateHandler(ctx, openUpdate, func(ctx workflow.Context, note string) (int, error) {
		answered = true
		return 1, nil
	}); err != nil {
		return 0, err
	}
	err := workflow.Await(ctx, func() bool { return answered && workflow.AllHandlersFinished(ctx) })
	return 1, err
}

// startBaselineWorker runs the baseline worker until the returned stop is called.
func startBaselineWorker(c client.Client) (stop func(), err error) {
	// The same pollers as the product's worker (worker/run.go): with fewer,
	// tasks in unpolled task-queue partitions wait 2s and the baseline would be unfair.
	w := worker.New(c, baselineQueue, worker.Options{WorkflowTaskPollerBehavior: temporalconn.WorkflowPollers(), MaxConcurrentActivityTaskPollers: 8,
		// The product's worker options: the baselines measure Temporal as Tierflow uses it.
		StickyScheduleToStartTimeout: temporalconn.StickyScheduleToStart})
	w.RegisterWorkflowWithOptions(noopWorkflow, workflow.RegisterOptions{Name: noopWorkflowName})
	w.RegisterWorkflowWithOptions(parkedWorkflow, workflow.RegisterOptions{Name: parkedName})
	w.RegisterWorkflowWithOptions(timerWorkflow, workflow.RegisterOptions{Name: timerName})
	w.RegisterWorkflowWithOptions(openedWorkflow, workflow.RegisterOptions{Name: openedName})
	w.RegisterActivityWithOptions(noopActivity, activity.RegisterOptions{Name: noopActivityName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start the baseline worker: %w", err)
	}
	return w.Stop, nil
}
