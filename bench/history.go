package main

import (
	"context"
	"fmt"
	"regexp"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/tierflow/tierflow"
)

// historySize is the Temporal history of one kind of run, over its cases.
type historySize struct {
	Lifecycle       string  `json:"lifecycle"`
	Path            string  `json:"path"`
	Cases           int     `json:"cases"`
	EventsMean      float64 `json:"events_mean"`
	EventsMax       int     `json:"events_max"`
	BytesMean       float64 `json:"bytes_mean"` // sum of the serialized events
	BytesMax        int     `json:"bytes_max"`
	ServerBytesMean float64 `json:"server_history_size_bytes_mean"` // as DescribeWorkflowExecution reports it
	TransitionsMean float64 `json:"state_transitions_mean"`
	workflowIDs     []string
}

// lifecycle drives one case through a standard path and returns its workflow ID.
type lifecycle struct {
	name, path string
	drive      func(ctx context.Context, b *bench, i int) (string, error)
}

var lifecycles = []lifecycle{
	{"manual escalation", "open > ack > escalate (functional) > ack > resolve > survey > closed", driveManual},
	{"automatic escalation", "open > ack deadline missed > escalated (automatic) > ack > resolve > survey > closed", driveAutomatic},
}

// measureHistories drives cfg.Lifecycles cases of every lifecycle side by side,
// waits until their workflows complete and measures their histories, next to the
// history of one no-op baseline workflow.
func (b *bench) measureHistories(ctx context.Context, baselineID string) ([]historySize, error) {
	var out []historySize
	for _, lc := range lifecycles {
		h := historySize{Lifecycle: lc.name, Path: lc.path, Cases: b.cfg.Lifecycles,
			workflowIDs: make([]string, b.cfg.Lifecycles)}
		if err := parallel(ctx, h.Cases, h.Cases, func(ctx context.Context, i int) error {
			id, err := lc.drive(ctx, b, i)
			h.workflowIDs[i] = id
			return err
		}); err != nil {
			return nil, fmt.Errorf("%s: %w", lc.name, err)
		}
		out = append(out, h)
	}
	out = append(out, historySize{Lifecycle: baselineLifecycle, Path: "one no-op activity", Cases: 1, workflowIDs: []string{baselineID}})
	for i := range out {
		if err := b.measureHistory(ctx, &out[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", out[i].Lifecycle, err)
		}
	}
	return out, nil
}

// measureHistory waits for each workflow of h to complete and sizes its history.
func (b *bench) measureHistory(ctx context.Context, h *historySize) error {
	c := b.stack.RawTemporal // the history as stored: encrypted payloads, sized as such
	for _, id := range h.workflowIDs {
		waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
		err := c.GetWorkflow(waitCtx, id, "").Get(waitCtx, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("wait for workflow %s to complete: %w", id, err)
		}
		events, size := 0, 0
		iter := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				return fmt.Errorf("history of %s: %w", id, err)
			}
			events, size = events+1, size+proto.Size(ev)
		}
		desc, err := c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			return fmt.Errorf("describe %s: %w", id, err)
		}
		info := desc.GetWorkflowExecutionInfo()
		n := float64(len(h.workflowIDs))
		h.EventsMean += float64(events) / n
		h.BytesMean += float64(size) / n
		h.ServerBytesMean += float64(info.GetHistorySizeBytes()) / n
		h.TransitionsMean += float64(info.GetStateTransitionCount()) / n
		h.EventsMax, h.BytesMax = max(h.EventsMax, events), max(h.BytesMax, size)
	}
	return nil
}

// driveManual: tier 1 acknowledges and hands the case to billing, the specialist
// acknowledges and resolves, the customer answers the survey.
func driveManual(ctx context.Context, b *bench, i int) (string, error) {
	v, _, err := b.api.integration.OpenCase(ctx, benchCase(b.runID+"life-m", i, policyQuiet))
	if err != nil {
		return "", err
	}
	for _, d := range []tierflow.Decision{
		{Action: tierflow.ActionAcknowledge, DecisionID: "ack-1"},
		{Action: tierflow.ActionEscalate, DecisionID: "esc-1", Mode: tierflow.EscalationFunctional, Department: "billing",
			Reason: "needs a refund", Summary: "The customer was charged twice; billing can refund."},
	} {
		if _, err := b.api.agent.Decide(ctx, v.ID, d); err != nil {
			return v.Workflow.ID, err
		}
	}
	return v.Workflow.ID, b.resolveAndSurvey(ctx, v.ID)
}

// driveAutomatic: nobody at tier 1 acknowledges within the breach policy's two
// seconds; the case climbs to tier 2 by itself, where it is taken and resolved.
func driveAutomatic(ctx context.Context, b *bench, i int) (string, error) {
	v, _, err := b.api.integration.OpenCase(ctx, benchCase(b.runID+"life-a", i, policyBreach))
	if err != nil {
		return "", err
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for v.Tier < tierflow.TierSpecialist {
		select {
		case <-waitCtx.Done():
			return v.Workflow.ID, fmt.Errorf("case %s still at tier %d: %w", v.ID, v.Tier, waitCtx.Err())
		case <-time.After(250 * time.Millisecond):
		}
		if v, err = b.api.viewer.GetCase(ctx, v.ID); err != nil {
			return "", err
		}
	}
	return v.Workflow.ID, b.resolveAndSurvey(ctx, v.ID)
}

// resolveAndSurvey: the specialist acknowledges and resolves; the customer gives
// the survey 5/5 through its link, which closes the case.
func (b *bench) resolveAndSurvey(ctx context.Context, caseID string) error {
	for _, d := range []tierflow.Decision{
		{Action: tierflow.ActionAcknowledge, DecisionID: "ack-2"},
		{Action: tierflow.ActionResolve, DecisionID: "res-1", Resolution: "Refunded the duplicate charge."},
	} {
		if _, err := b.api.specialist.Decide(ctx, caseID, d); err != nil {
			return err
		}
	}
	token, err := b.surveyToken(ctx, caseID)
	if err != nil {
		return err
	}
	return b.api.customer.AnswerSurvey(ctx, token, tierflow.SurveyResponse{Score: 5, Resolved: true, Comment: "benchmark"})
}

// surveyLinkRE matches the survey link of an email; its group is the token.
var surveyLinkRE = regexp.MustCompile(`https?://[^\s"'<>]+/v1/surveys/([A-Za-z0-9_.=-]+)`)

// surveyToken waits for the case's survey email in the dev mailbox and returns the
// token of its link.
func (b *bench) surveyToken(ctx context.Context, caseID string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		msgs, err := b.stack.Store.ListMail(ctx, caseID, 100)
		if err != nil {
			return "", fmt.Errorf("list mail of %s: %w", caseID, err)
		}
		for _, m := range msgs {
			if m.Kind != tierflow.MsgSurvey {
				continue
			}
			full, err := b.stack.Store.GetMail(ctx, m.ID)
			if err != nil {
				return "", fmt.Errorf("read mail %d: %w", m.ID, err)
			}
			if link := surveyLinkRE.FindStringSubmatch(full.Text); link != nil {
				return link[1], nil
			}
			return "", fmt.Errorf("survey email %d of %s has no link", m.ID, caseID)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no survey email for %s: %w", caseID, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
