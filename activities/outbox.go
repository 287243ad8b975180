package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
)

// The outbox's delivery (DeliverOutbox), run by the Mailer workflow of each shard:
// the emails of recorded transitions leave here, each batch through Notify (so
// each message is claimed, sent and settled under its own key: at most once),
// outside the cases' histories.
const (
	// OutboxConcurrency is how many cases' batches one delivery sends at once.
	OutboxConcurrency = 16
	// OutboxLease is how long a claimed batch is held; a delivery that dies
	// leaves it to be claimed again when it ends. A batch is given
	// DefaultOutboxBatchBudget to settle, well inside it.
	OutboxLease              = 2 * time.Minute
	DefaultOutboxBatchBudget = 90 * time.Second
	// OutboxPoll is the backstop of LISTEN: due rows (retries, lost
	// notifications) are looked for at least this often.
	OutboxPoll = time.Second
	// DefaultOutboxDeliveryTime is how long one DeliverOutbox runs (its For).
	DefaultOutboxDeliveryTime = 5 * time.Minute
	// outboxRetryMax caps the backoff of a batch that failed, as the Notify
	// activity's retry policy does.
	outboxRetryMax = 5 * time.Minute
	// outboxStatsEvery is how often the depth and age metrics are refreshed.
	outboxStatsEvery = 5 * time.Second
	// DefaultOutboxRetention is how long a delivered batch is kept (it holds
	// customer names and addresses; the ledger keeps each email's outcome).
	DefaultOutboxRetention = 7 * 24 * time.Hour
	// outboxPurgeEvery and outboxPurgeBatch bound the retention's deletes: at
	// most outboxPurgeBatch rows of the shard per pass.
	outboxPurgeEvery = time.Minute
	outboxPurgeBatch = 1000
)

// Metrics of the outbox, through the worker's metrics handler (Prometheus):
// due batches waiting, how long the oldest has been due, and the lag from when a
// batch became due (its transition's record, or its send time when scheduled)
// to its emails' delivery. A scheduled batch whose time has not come is in none.
const (
	MetricOutboxDepth     = "tierflow_outbox_depth"
	MetricOutboxOldestAge = "tierflow_outbox_oldest_age_seconds"
	MetricOutboxLag       = "tierflow_outbox_delivery_lag"
)

// DeliverOutboxInput names the shard a delivery serves and how long it runs.
type DeliverOutboxInput struct {
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// For is how long to deliver before returning (0: DefaultOutboxDeliveryTime).
	For time.Duration `json:"for,omitempty"`
}

// DeliverOutboxResult counts what one delivery did.
type DeliverOutboxResult struct {
	Delivered int `json:"delivered"` // batches settled (their emails sent or settled otherwise)
	Retried   int `json:"retried"`   // batches released for a later attempt
	Problems  int `json:"problems"`  // emails refused or unconfirmed, told to their case
}

// DeliverOutboxProgress is a delivery's heartbeat details (what operators see on
// the Mailer's pending activity).
type DeliverOutboxProgress struct {
	DeliverOutboxResult
	Shard    int    `json:"shard"`
	InFlight int    `json:"in_flight"`
	LastCase string `json:"last_case,omitempty"`
}

// DeliverOutbox delivers the outbox batches of one shard for in.For (which must
// exceed the batch budget, Activities.OutboxBatchBudget): it claims
// due batches (LISTEN wakes it, a poll every OutboxPoll is the backstop), at most
// OutboxConcurrency cases at a time and each case's batches in order, sends each
// through Notify and settles it: delivered, or retried with backoff when Notify
// failed with an error a retry may fix. Emails no retry can send go back to their
// case (CaseSignaller). It heartbeats its progress; cancelled, it returns what
// it did and leaves unsettled batches to their lease.
func (a *Activities) DeliverOutbox(ctx context.Context, in DeliverOutboxInput) (DeliverOutboxResult, error) {
	outbox := a.outbox()
	if outbox == nil || in.Shards < 1 || in.Shard < 0 || in.Shard >= in.Shards {
		return DeliverOutboxResult{}, invalidInput("deliver outbox: shard %d of %d (and a store with an outbox) required",
			in.Shard, in.Shards)
	}
	if in.For <= 0 {
		in.For = DefaultOutboxDeliveryTime
	}
	budget := a.OutboxBatchBudget
	if budget <= 0 {
		budget = DefaultOutboxBatchBudget
	}
	if in.For <= budget {
		return DeliverOutboxResult{}, invalidInput("deliver outbox: for %s must exceed a batch's budget %s", in.For, budget)
	}
	d := &deliverer{a: a, outbox: outbox, in: in, budget: budget, done: make(chan struct{}, OutboxConcurrency)}
	d.progress.Shard = in.Shard
	ctx = context.WithValue(ctx, heartbeatKey{}, d.heartbeat(ctx))
	wake := make(chan struct{}, 1)
	stop, err := outbox.ListenOutbox(ctx, wake)
	if err != nil {
		activity.GetLogger(ctx).Warn("outbox: LISTEN failed; polling only", "error", err)
	} else {
		defer stop()
	}
	d.run(ctx, wake)
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.progress.DeliverOutboxResult, nil
}

// deliverer is one DeliverOutbox.
type deliverer struct {
	a      *Activities
	outbox tierflow.Outbox
	in     DeliverOutboxInput
	budget time.Duration // how long one batch may take
	wg     sync.WaitGroup
	done   chan struct{} // a batch finished: room to claim another
	mu     sync.Mutex
	// progress is guarded by mu.
	progress DeliverOutboxProgress
}

func (d *deliverer) run(ctx context.Context, wake <-chan struct{}) {
	// No batch is claimed once less than its budget is left before For: one
	// claimed later could still be sending when the Mailer's StartToCloseTimeout
	// (For + 1 minute) cancels the activity, and a send cut short is settled
	// unconfirmed and never resent. The batches in flight then finish by For.
	deadline := time.NewTimer(d.in.For - d.budget)
	defer deadline.Stop()
	poll := time.NewTicker(OutboxPoll)
	defer poll.Stop()
	// A stopping worker waits for its activities: stop claiming at once and
	// return when the batches in flight are settled.
	stopping := activity.GetWorkerStopChannel(ctx)
	var lastStats, lastPurge time.Time
	for {
		if time.Since(lastStats) >= outboxStatsEvery {
			d.reportStats(ctx)
			lastStats = time.Now()
		}
		if time.Since(lastPurge) >= outboxPurgeEvery {
			d.purge(ctx)
			lastPurge = time.Now()
		}
		activity.RecordHeartbeat(ctx, d.snapshot())
		d.claim(ctx)
		select {
		case <-ctx.Done():
			d.wg.Wait()
			return
		case <-deadline.C:
			d.wg.Wait()
			return
		case <-stopping:
			d.wg.Wait()
			return
		case <-wake:
		case <-d.done:
		case <-poll.C:
		}
	}
}

// claim leases as many due batches as there is room for and starts them.
func (d *deliverer) claim(ctx context.Context) {
	d.mu.Lock()
	room := OutboxConcurrency - d.progress.InFlight
	d.mu.Unlock()
	if room <= 0 || ctx.Err() != nil {
		return
	}
	rows, err := d.outbox.ClaimOutbox(ctx, d.in.Shard, d.in.Shards, room, OutboxLease)
	if err != nil {
		activity.GetLogger(ctx).Warn("outbox: claim failed; trying again", "shard", d.in.Shard, "error", err)
		return
	}
	for _, row := range rows {
		d.mu.Lock()
		d.progress.InFlight++
		d.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.deliver(ctx, row)
			d.mu.Lock()
			d.progress.InFlight--
			d.progress.LastCase = row.CaseID
			d.mu.Unlock()
			select {
			case d.done <- struct{}{}:
			default:
			}
		}()
	}
}

// deliver sends one batch and settles its row.
func (d *deliverer) deliver(ctx context.Context, row tierflow.OutboxRow) {
	log := activity.GetLogger(ctx)
	var batch NotifyInput
	if err := json.Unmarshal(row.Batch, &batch); err != nil {
		// Never settled as delivered: the row keeps the error and is retried
		// with backoff (a worker that knows the batch's shape sends it), and its
		// case's later batches wait behind it.
		reason := fmt.Sprintf("the batch does not decode: %v", err)
		log.Error("outbox: batch does not decode; retrying", "case_id", row.CaseID, "seq", row.Seq, "attempt", row.Attempt,
			"error", err)
		d.settle(ctx, row, func(ctx context.Context) error {
			return d.outbox.RetryOutbox(ctx, row.ID, row.Attempt, outboxBackoff(row.Attempt, err), reason)
		}, func(p *DeliverOutboxProgress) { p.Retried++ })
		return
	}
	bctx, cancel := context.WithTimeout(ctx, d.budget)
	res, err := d.a.Notify(bctx, batch)
	cancel()
	var appErr *temporal.ApplicationError
	if err != nil && !(errors.As(err, &appErr) && appErr.NonRetryable()) {
		after := outboxBackoff(row.Attempt, err)
		log.Warn("outbox: batch failed; retrying", "case_id", row.CaseID, "seq", row.Seq, "attempt", row.Attempt,
			"retry_in", after.String(), "error", err)
		d.settle(ctx, row, func(ctx context.Context) error {
			return d.outbox.RetryOutbox(ctx, row.ID, row.Attempt, after, err.Error())
		}, func(p *DeliverOutboxProgress) { p.Retried++ })
		return
	}
	if err != nil { // no retry can send any of it: each message is refused
		log.Error("outbox: batch refused", "case_id", row.CaseID, "seq", row.Seq, "error", err)
		res = refusedBatch(batch, failureMessage(err))
	}
	problems := batchProblems(res)
	if len(problems) > 0 {
		if err := d.a.reportProblems(ctx, row.CaseID, row.Seq, problems); err != nil {
			log.Warn("outbox: could not tell the case of its email problems; retrying", "case_id", row.CaseID,
				"seq", row.Seq, "error", err)
			d.settle(ctx, row, func(ctx context.Context) error {
				return d.outbox.RetryOutbox(ctx, row.ID, row.Attempt, outboxBackoff(row.Attempt, err), err.Error())
			}, func(p *DeliverOutboxProgress) { p.Retried++ })
			return
		}
	}
	d.settle(ctx, row, func(ctx context.Context) error {
		return d.outbox.MarkOutboxDelivered(ctx, row.ID, row.Attempt, problemSummary(problems))
	}, func(p *DeliverOutboxProgress) { p.Delivered++; p.Problems += len(problems) })
	activity.GetMetricsHandler(ctx).Timer(MetricOutboxLag).Record(time.Since(row.DueAt))
}

// settle writes a row's outcome on a context that outlives a cancelled delivery
// (what was sent stays sent); a stale claim (the lease ended, another delivery
// has the row) changes nothing and is only logged.
func (d *deliverer) settle(ctx context.Context, row tierflow.OutboxRow, write func(context.Context) error,
	count func(*DeliverOutboxProgress)) {
	wctx, cancel := detached(ctx)
	defer cancel()
	if err := write(wctx); err != nil {
		activity.GetLogger(ctx).Warn("outbox: could not settle the batch; its lease will end", "case_id", row.CaseID,
			"seq", row.Seq, "attempt", row.Attempt, "error", err)
		return
	}
	d.mu.Lock()
	count(&d.progress)
	d.mu.Unlock()
}

// purge deletes the shard's batches delivered longer ago than the retention, at
// most outboxPurgeBatch per pass; a failure waits for the next pass.
func (d *deliverer) purge(ctx context.Context) {
	retention := d.a.OutboxRetention
	if retention <= 0 {
		retention = DefaultOutboxRetention
	}
	n, err := d.outbox.PurgeDeliveredOutbox(ctx, d.in.Shard, d.in.Shards, retention, outboxPurgeBatch)
	if err != nil {
		activity.GetLogger(ctx).Warn("outbox: could not delete delivered batches; next pass", "shard", d.in.Shard, "error", err)
		return
	}
	if n > 0 {
		activity.GetLogger(ctx).Info("outbox: deleted delivered batches past retention", "shard", d.in.Shard, "deleted", n,
			"retention", retention.String())
	}
}

// reportStats refreshes the depth and age gauges (every shard's delivery reports
// the same, whole-outbox figures).
func (d *deliverer) reportStats(ctx context.Context) {
	st, err := d.outbox.OutboxStats(ctx)
	if err != nil {
		return
	}
	m := activity.GetMetricsHandler(ctx)
	m.Gauge(MetricOutboxDepth).Update(float64(st.Depth))
	age := 0.0
	if !st.Oldest.IsZero() {
		age = time.Since(st.Oldest).Seconds()
	}
	m.Gauge(MetricOutboxOldestAge).Update(age)
}

func (d *deliverer) snapshot() DeliverOutboxProgress {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.progress
}

// heartbeat is what Notify's heartbeats do inside a delivery: the delivery's
// progress, not one message's key, is its heartbeat details.
func (d *deliverer) heartbeat(ctx context.Context) func() {
	return func() { activity.RecordHeartbeat(ctx, d.snapshot()) }
}

type heartbeatKey struct{}

// recordHeartbeat heartbeats the activity with details, or, inside a delivery,
// with the delivery's progress.
func recordHeartbeat(ctx context.Context, details any) {
	if hb, ok := ctx.Value(heartbeatKey{}).(func()); ok {
		hb()
		return
	}
	activity.RecordHeartbeat(ctx, details)
}

// outboxBackoff is when a failed batch is tried again: the provider's own delay
// when it said one, else 1s doubling per attempt up to outboxRetryMax (the
// Notify activity's retry policy).
func outboxBackoff(attempt int, err error) time.Duration {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NextRetryDelay() > 0 {
		return appErr.NextRetryDelay()
	}
	after := time.Second
	for i := 1; i < attempt && after < outboxRetryMax; i++ {
		after *= 2
	}
	return min(after, outboxRetryMax)
}

// batchProblems are the outcomes no retry will change: refused or unconfirmed.
func batchProblems(res NotifyBatchResult) []NotifyOutcome {
	var out []NotifyOutcome
	for _, o := range res.Outcomes {
		if o.State == StateRefused || o.State == StateUnconfirmed {
			out = append(out, o)
		}
	}
	return out
}

// refusedBatch reports every message of a batch refused with reason.
func refusedBatch(in NotifyInput, reason string) NotifyBatchResult {
	out := NotifyBatchResult{}
	for _, m := range in.Messages {
		if m.Customer == nil && m.Staff == nil {
			continue
		}
		key, kind := m.id()
		out.Outcomes = append(out.Outcomes, NotifyOutcome{Key: key, Kind: kind, State: StateRefused, Error: reason})
	}
	return out
}

func failureMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

func problemSummary(problems []NotifyOutcome) string {
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = fmt.Sprintf("%s %s: %s", p.Key, p.State, p.Error)
	}
	return strings.Join(parts, "; ")
}
