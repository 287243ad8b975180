package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// A stopping worker (SIGTERM during a deploy) lets an activity that is running
// finish and report its result, instead of cancelling it.
func TestStopLetsInFlightActivitiesFinish(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devServer.Dial(ctx, nil)
	require.NoError(t, err)
	defer c.Close()

	const activityTime = 1500 * time.Millisecond
	taskQueue := "graceful-stop-" + time.Now().Format("150405.000000")
	w := newWorker(c, taskQueue, 10*time.Second, func(err error) { t.Errorf("fatal worker error: %v", err) })
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "slow").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "graceful"})
	started := make(chan struct{})
	var finished, cancelled atomic.Bool
	w.RegisterActivityWithOptions(func(ctx context.Context) error {
		close(started)
		select {
		case <-time.After(activityTime):
			finished.Store(true)
			return nil
		case <-ctx.Done():
			cancelled.Store(true)
			return ctx.Err()
		}
	}, activity.RegisterOptions{Name: "slow"})
	require.NoError(t, w.Start())

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: taskQueue}, "graceful")
	require.NoError(t, err)
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the activity never started")
	}
	begin := time.Now()
	w.Stop()
	assert.True(t, finished.Load(), "the activity ran to completion")
	assert.False(t, cancelled.Load(), "the activity was not cancelled")
	assert.Less(t, time.Since(begin), 10*time.Second, "Stop returned within the stop timeout")

	iter := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	completed := false
	for iter.HasNext() {
		event, err := iter.Next()
		require.NoError(t, err)
		completed = completed || event.GetEventType() == enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
	}
	assert.True(t, completed, "the server recorded the activity's result")
	require.NoError(t, c.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), "test done"))
}
