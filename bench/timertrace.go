package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// timelineStep is one event of a workflow's history, timed against an instant.
type timelineStep struct {
	Event   string  `json:"event"`
	Seconds float64 `json:"seconds"` // the event's time - the instant
}

// slowestTimeline reads the history of the workflow id and times each event from
// `from`: where a late completion spent its time (the timer fired late, the
// workflow task waited in matching, or the worker was slow to answer it).
func (b *bench) slowestTimeline(ctx context.Context, id string, from time.Time) ([]timelineStep, error) {
	iter := b.stack.RawTemporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var steps []timelineStep
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return steps, fmt.Errorf("history of %s: %w", id, err)
		}
		name := strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")
		steps = append(steps, timelineStep{Event: name, Seconds: ev.GetEventTime().AsTime().Sub(from).Seconds()})
	}
	return steps, nil
}

func formatTimeline(steps []timelineStep) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = fmt.Sprintf("%s %+.3fs", s.Event, s.Seconds)
	}
	return strings.Join(parts, ", ")
}
