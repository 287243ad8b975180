package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/workflows"
)

// maxMailerShards bounds TIERFLOW_MAILER_SHARDS: each shard is a workflow and,
// while it delivers, a LISTEN connection to PostgreSQL.
const maxMailerShards = 64

// mailerShards reads TIERFLOW_MAILER_SHARDS (default workflows.DefaultMailerShards).
// Every worker must use the same value: a Mailer started with another count keeps
// serving its old shard (safe, as claims are leased, but redundant) until an
// operator terminates it.
func mailerShards(getenv func(string) string) (int, error) {
	v := getenv("TIERFLOW_MAILER_SHARDS")
	if v == "" {
		return workflows.DefaultMailerShards, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxMailerShards {
		return 0, fmt.Errorf("TIERFLOW_MAILER_SHARDS must be a whole number from 1 to %d, got %q", maxMailerShards, v)
	}
	return n, nil
}

// minRetention is the shortest retention accepted: operators need time to look
// at what was sent before it is deleted.
const minRetention = time.Hour

// retentionFromEnv reads a retention from the variable name, a Go duration ("168h") of
// at least minRetention (fallback when unset).
func retentionFromEnv(getenv func(string) string, name string, fallback time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < minRetention {
		return 0, fmt.Errorf("%s must be a duration of at least %s such as 168h, got %q", name, minRetention, v)
	}
	return d, nil
}

// registerMailer puts the Mailer workflow on the worker.
func registerMailer(r worker.Registry) {
	r.RegisterWorkflowWithOptions(workflows.MailerWorkflow, workflow.RegisterOptions{Name: workflows.MailerWorkflowName})
}

// startMailers starts the Mailer of every shard unless it runs already: every
// worker does it at boot, the first start wins and the others use it.
func startMailers(ctx context.Context, c client.Client, shards int, logger *slog.Logger) error {
	for shard := range shards {
		id := workflows.MailerWorkflowID(shard)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			StaticSummary:            fmt.Sprintf("email outbox, shard %d of %d", shard, shards)},
			workflows.MailerWorkflowName, workflows.MailerInput{Shard: shard, Shards: shards})
		if err != nil {
			return fmt.Errorf("start mailer %s: %w", id, err)
		}
		logger.Info("mailer running", "workflow_id", id, "run_id", run.GetRunID(), "shards", shards)
	}
	return nil
}

// caseSignaller tells case workflows of their email problems (activities.CaseSignaller).
type caseSignaller struct{ c client.Client }

func (s caseSignaller) SignalNotificationProblems(ctx context.Context, caseID string, p activities.NotificationProblems) error {
	err := s.c.SignalWorkflow(ctx, workflows.WorkflowID(caseID), "", workflows.SignalNotificationProblems, p)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("signal case %s: %w", caseID, activities.ErrCaseEnded)
	}
	if err != nil {
		return fmt.Errorf("signal case %s: %w", caseID, err)
	}
	return nil
}
