package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/searchattrs"
	"github.com/tierflow/tierflow/internal/temporalconn"
	"github.com/tierflow/tierflow/internal/updateauth"
	"github.com/tierflow/tierflow/postgres"
	"github.com/tierflow/tierflow/workflows"
)

// dialTimeout bounds the first contact with Temporal, so that a wrong address fails
// the start with a clear message instead of hanging.
const dialTimeout = 15 * time.Second

// run wires the worker and blocks until ctx ends (then stops gracefully) or the
// worker fails. Every startup failure says what could not be reached or done.
func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	cfg.Mode.WarnDevSettings(logger)
	metricsHandler, metricsHTTP, metricsCloser := newMetrics()
	defer metricsCloser.Close()
	ready := &readiness{}
	ops, err := startOpsServer(cfg.MetricsAddr, metricsHTTP, ready, cfg.Pprof, logger)
	if err != nil {
		return err
	}
	defer ops.shutdown()

	opts := cfg.Temporal
	opts.Logger = sdklog.NewStructuredLogger(logger)
	opts.MetricsHandler = metricsHandler
	// Payloads and failures are encrypted with TIERFLOW_CODEC_KEYS (codec/).
	codec.ConfigureClient(&opts, cfg.CodecKeys)
	dialCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	c, err := client.DialContext(dialCtx, opts)
	cancel()
	if err != nil {
		return fmt.Errorf("cannot reach Temporal at %s (set TEMPORAL_ADDRESS): %w", cfg.temporalTarget(), err)
	}
	defer c.Close()
	warnMissingSearchAttributes(ctx, c, cfg, logger)

	store, err := postgres.OpenWithLimits(ctx, cfg.DatabaseURL, cfg.DBLimits, logger)
	if err != nil {
		return fmt.Errorf("cannot open the database (DATABASE_URL): %w", err)
	}
	defer store.Close()
	if err := store.Ping(ctx); err != nil {
		return fmt.Errorf("cannot reach the database (DATABASE_URL): %w", withCause(err))
	}
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("database migrations failed: %w", withCause(err))
	}
	mailer, err := newMailer(cfg.Mail, store, logger)
	if err != nil {
		return err
	}

	// Updates not signed by the API are refused (internal/updateauth).
	updateVerifier, err := updateauth.NewVerifier(cfg.SurveyKeys)
	if err != nil {
		return fmt.Errorf("update verification key: %w", err)
	}
	fatal := make(chan error, 1)
	w := newWorker(c, workflows.TaskQueue, cfg.StopTimeout, func(err error) {
		select {
		case fatal <- err:
		default:
		}
	}, updateauth.WorkerInterceptor(updateVerifier))
	register(w, &activities.Activities{
		Store:         store,
		Mailer:        mailer,
		SurveyKeys:    cfg.SurveyKeys,
		SurveyBaseURL: cfg.PublicURL,
		StaffLinks:    newStaffLinks(c, cfg, opts),
		Now:           time.Now,
		Cases:         caseSignaller{c},
		// Delivered outbox batches hold customer addresses: kept this long.
		OutboxRetention: cfg.OutboxRetention,
	})
	registerMailer(w)
	migrationClient, err := registerPolicyMigration(w, c, opts, cfg.SurveyKeys)
	if err != nil {
		return err
	}
	defer migrationClient.Close()
	if err := registerWebhooks(w, c, store, cfg); err != nil {
		return err
	}
	ready.checks = []func(context.Context) error{
		func(ctx context.Context) error {
			_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
		store.Ping,
	}

	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on task queue %s: %w", workflows.TaskQueue, err)
	}
	if err := startMailers(ctx, c, cfg.MailerShards, logger); err != nil {
		w.Stop()
		return err
	}
	ready.started.Store(true)
	startWebhookDispatcher(ctx, c, logger)
	logger.Info("worker started", "task_queue", workflows.TaskQueue, "temporal", cfg.temporalTarget(),
		"metrics_addr", ops.Addr(), "payloads_encrypted", cfg.CodecKeys != nil)

	select {
	case <-ctx.Done():
	case err := <-fatal:
		ready.started.Store(false)
		w.Stop()
		return fmt.Errorf("worker failed: %w", err)
	}
	ready.started.Store(false)
	logger.Info("stopping worker: letting in-flight activities finish", "stop_timeout", cfg.StopTimeout.String())
	w.Stop()
	return nil
}

// withCause shows the cause that a *tierflow.Error keeps out of its message (right
// for API clients, but an operator reading a startup failure needs it). Not used on
// DSN parse errors, whose cause may echo the password.
func withCause(err error) error {
	var te *tierflow.Error
	if errors.As(err, &te) && te.Err != nil {
		return fmt.Errorf("%w (%v)", err, te.Err)
	}
	return err
}

// Pollers per task type. Temporal splits a task queue into partitions (4 by
// default, the dev server included). A task that lands in a partition with no poll
// waiting goes to that partition's backlog, whose forwarding to the root partition
// is rate limited and retried only every 2 seconds (matching's TaskMatcher), so with
// the SDK's default of 2 pollers (the workflow ones shared with the sticky queue) a
// case's first workflow task or a RecordTransition activity often started 2s late:
// POST /v1/cases p99 2.1s and decision p99 2s under load. Idle long polls are cheap;
// 8 of each keep the partitions polled (p99 below 0.35s and 1s). More workflow
// pollers (16) only moved the wait to the activity backlog under overload.
// Workflow tasks: temporalconn.WorkflowPollers (8 on each of the shared and
// the sticky queue).
const activityTaskPollers = 8

// newWorker polls taskQueue; Stop lets in-flight activities run for up to
// stopTimeout before their contexts are cancelled. onFatal hears of errors that
// stop the worker by themselves (the namespace was deleted, for instance).
// interceptors wrap its workflows and activities (run passes the Update check).
func newWorker(c client.Client, taskQueue string, stopTimeout time.Duration, onFatal func(error),
	interceptors ...interceptor.WorkerInterceptor) worker.Worker {
	return worker.New(c, taskQueue, worker.Options{WorkerStopTimeout: stopTimeout, OnFatalError: onFatal,
		WorkflowTaskPollerBehavior: temporalconn.WorkflowPollers(), MaxConcurrentActivityTaskPollers: activityTaskPollers,
		StickyScheduleToStartTimeout: temporalconn.StickyScheduleToStart, Interceptors: interceptors})
}

// register puts the case workflow (under its stable name) and every activity
// method of acts on the worker.
func register(r worker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.CaseWorkflow, workflow.RegisterOptions{Name: workflows.WorkflowName})
	r.RegisterActivity(acts)
}

// warnMissingSearchAttributes logs, without failing, when the namespace lacks our
// search attributes: workflows would then fail their upserts. The check needs the
// operator API, which some deployments do not expose to workers.
func warnMissingSearchAttributes(ctx context.Context, c client.Client, cfg config, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ns := cfg.Temporal.Namespace
	if ns == "" {
		ns = client.DefaultNamespace
	}
	missing, err := searchattrs.Missing(ctx, c, ns)
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		logger.Warn("could not check the namespace's search attributes", "namespace", ns, "error", err)
	case len(missing) > 0:
		logger.Error("the namespace lacks search attributes: run deploy/register-search-attributes.sh",
			"namespace", ns, "missing", missing)
	}
}
