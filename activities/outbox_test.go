package activities_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/fakesendgrid"
)

// fakeCases records the problems DeliverOutbox signals; ended cases answer
// ErrCaseEnded as a completed workflow does.
type fakeCases struct {
	mu      sync.Mutex
	signals map[string][]activities.NotificationProblems
	ended   map[string]bool
}

func (f *fakeCases) SignalNotificationProblems(_ context.Context, caseID string, p activities.NotificationProblems) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended[caseID] {
		return activities.ErrCaseEnded
	}
	f.signals[caseID] = append(f.signals[caseID], p)
	return nil
}

func (f *fakeCases) of(caseID string) []activities.NotificationProblems {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signals[caseID]
}

func outboxHarness(t *testing.T) (*harness, *fakeCases) {
	h := newHarness(t)
	cases := &fakeCases{signals: map[string][]activities.NotificationProblems{}, ended: map[string]bool{}}
	h.acts.Cases = cases
	// Short runs (the tests' For) need a short budget: no claim in the last second.
	h.acts.OutboxBatchBudget = time.Second
	h.env = newActivityEnv(h.acts, h.logs)
	return h, cases
}

// queueMail is a staff email of case caseID to the tier-2 queue address queue.
func queueMail(caseID string, seq int64, queue string) activities.NotifyMessage {
	return activities.NotifyMessage{Staff: &activities.NotifyStaffInput{
		Key: caseID + "/" + itoa(seq) + "/staff_assignment", Kind: tierflow.MsgStaffAssignment,
		Groups: []string{activities.StaffQueue}, Tier: 2, Queues: map[tierflow.Tier]string{2: queue},
		Data: tierflow.MessageData{Subject: "Charged twice"}}}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// recordOutbox records event seq of caseID with one email batch, as the case
// workflow's RecordTransition does.
func (h *harness) recordOutbox(caseID string, seq int64, messages ...activities.NotifyMessage) {
	h.t.Helper()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	view := tierflow.CaseView{ID: caseID, Source: "zendesk", ExternalID: caseID, Seq: seq, Status: tierflow.StatusOpen,
		Tier: 2, StartTier: 1, Priority: tierflow.PriorityNormal, Subject: "Charged twice",
		Trigger: tierflow.TriggerUnresolved, OpenedAt: at, EscalatedAt: at}
	in := activities.RecordTransitionInput{
		Transition: tierflow.Transition{CaseID: caseID, View: view, Events: []tierflow.CaseEvent{{CaseID: caseID, Seq: seq,
			Type: tierflow.EventNote, At: at, Actor: tierflow.SystemActor, Tier: 2, Status: tierflow.StatusOpen}}},
		Emails: []activities.TransitionEmails{{Seq: seq, Messages: messages}},
	}
	for range 2 { // a retried record writes its batch once
		_, err := h.env.ExecuteActivity(h.acts.RecordTransition, in)
		require.NoError(h.t, err)
	}
}

func (h *harness) deliverOutbox(d time.Duration) activities.DeliverOutboxResult {
	h.t.Helper()
	res, err := run[activities.DeliverOutboxResult](h.t, h.env, h.acts.DeliverOutbox,
		activities.DeliverOutboxInput{Shard: 0, Shards: 1, For: d})
	require.NoError(h.t, err)
	return res
}

func (h *harness) recipients() []string {
	var out []string
	for _, m := range h.fake.Accepted() {
		out = append(out, m.Mail.Recipients()...)
	}
	return out
}

func (h *harness) outboxDepth() int {
	h.t.Helper()
	st, err := h.store.OutboxStats(context.Background())
	require.NoError(h.t, err)
	return st.Depth
}

// Each batch is sent once, a case's batches in the order of their records, and
// a second delivery sends nothing again.
func TestDeliverOutboxSendsEachBatchOnceInOrder(t *testing.T) {
	h, cases := outboxHarness(t)
	for seq := int64(1); seq <= 3; seq++ {
		h.recordOutbox("case-a", seq, queueMail("case-a", seq, "a"+itoa(seq)+"@example.com"))
	}
	h.recordOutbox("case-b", 1, queueMail("case-b", 1, "b1@example.com"))

	res := h.deliverOutbox(3 * time.Second)
	assert.Equal(t, 4, res.Delivered)
	assert.Zero(t, h.outboxDepth())
	var caseA []string
	for _, r := range h.recipients() {
		if r != "b1@example.com" {
			caseA = append(caseA, r)
		}
	}
	assert.Equal(t, []string{"a1@example.com", "a2@example.com", "a3@example.com"}, caseA, "in seq order")
	assert.Len(t, h.recipients(), 4)

	again := h.deliverOutbox(1500 * time.Millisecond)
	assert.Zero(t, again.Delivered)
	assert.Len(t, h.fake.Accepted(), 4, "nothing sent twice")
	assert.Empty(t, cases.of("case-a"))
}

// A provider that is unavailable (429) leaves the batch for a retry after its
// Retry-After; a refused email (400) goes back to its case by signal, or, when
// the case has ended, onto its record directly.
func TestDeliverOutboxRetriesAndReportsRefusals(t *testing.T) {
	h, cases := outboxHarness(t)
	h.recordOutbox("case-r", 1, queueMail("case-r", 1, "r1@example.com"))
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 429, RetryAfter: time.Second})
	res := h.deliverOutbox(4 * time.Second)
	assert.Equal(t, 1, res.Retried)
	assert.Equal(t, 1, res.Delivered, "delivered after its backoff")
	assert.Equal(t, []string{"r1@example.com"}, h.recipients())

	h.recordOutbox("case-x", 1, queueMail("case-x", 1, "x1@example.com"))
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 400, Message: "invalid address"})
	res = h.deliverOutbox(1500 * time.Millisecond)
	assert.Equal(t, 1, res.Problems)
	signals := cases.of("case-x")
	require.Len(t, signals, 1)
	assert.Equal(t, int64(1), signals[0].Seq)
	require.Len(t, signals[0].Outcomes, 1)
	assert.Equal(t, activities.StateRefused, signals[0].Outcomes[0].State)
	assert.Equal(t, "case-x/1/staff_assignment", signals[0].Outcomes[0].Key)
	assert.Zero(t, h.outboxDepth(), "a refused email settles its batch")

	cases.ended["case-e"] = true
	h.recordOutbox("case-e", 4, queueMail("case-e", 4, "e4@example.com"))
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 400, Message: "invalid address"})
	h.deliverOutbox(1500 * time.Millisecond)
	events, err := h.store.CaseEvents(context.Background(), "case-e")
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, tierflow.EventNotificationFailed, events[1].Type)
	assert.Equal(t, int64(5), events[1].Seq, "after the ended case's last event")
	assert.Equal(t, "case-e/4/staff_assignment", events[1].Details[tierflow.DetailKey])
	view, err := h.store.GetCase(context.Background(), "case-e")
	require.NoError(t, err)
	assert.Equal(t, int64(5), view.Seq)
}

// A delivery killed after it claimed a batch and handed its email to the
// provider (lease and ledger claim left behind) is not repeated: once the lease
// ends the batch is claimed again, the ledger finds the email "sending" and
// settles it unconfirmed, and the case is told; nothing is resent.
func TestDeliverOutboxAfterAKilledDeliveryDoesNotResend(t *testing.T) {
	h, cases := outboxHarness(t)
	h.recordOutbox("case-k", 1, queueMail("case-k", 1, "k1@example.com"))
	ctx := context.Background()
	rows, err := h.store.ClaimOutbox(ctx, 0, 1, 10, 200*time.Millisecond)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	_, err = h.store.ClaimNotification(ctx, tierflow.NotificationClaim{Key: "case-k/1/staff_assignment", CaseID: "case-k",
		Kind: tierflow.MsgStaffAssignment, Audience: tierflow.AudienceStaff, Recipients: 1})
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the killed delivery's lease ends

	res := h.deliverOutbox(2 * time.Second)
	assert.Equal(t, 1, res.Delivered)
	assert.Empty(t, h.fake.Accepted(), "not resent")
	signals := cases.of("case-k")
	require.Len(t, signals, 1)
	assert.Equal(t, activities.StateUnconfirmed, signals[0].Outcomes[0].State)
	assert.Equal(t, tierflow.NotificationUnconfirmed, h.ledger("case-k/1/staff_assignment").State)
}

// A delivered batch (customer names and addresses) is deleted once it is older
// than the retention; an undelivered one never is.
func TestDeliverOutboxDeletesDeliveredBatchesPastRetention(t *testing.T) {
	h, _ := outboxHarness(t)
	h.acts.OutboxRetention = time.Hour
	h.recordOutbox("case-old", 1, queueMail("case-old", 1, "old@example.com"))
	h.recordOutbox("case-new", 1, queueMail("case-new", 1, "new@example.com"))
	require.Equal(t, 2, h.deliverOutbox(2*time.Second).Delivered)
	h.recordOutbox("case-due", 1, queueMail("case-due", 1, "due@example.com"))

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `UPDATE outbox SET delivered_at = now() - interval '61 minutes' WHERE case_id = 'case-old'`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `UPDATE outbox SET next_attempt_at = now() + interval '1 hour' WHERE case_id = 'case-due'`)
	require.NoError(t, err)

	h.deliverOutbox(1500 * time.Millisecond)
	rows, err := conn.Query(ctx, `SELECT case_id FROM outbox ORDER BY case_id`)
	require.NoError(t, err)
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	assert.Equal(t, []string{"case-due", "case-new"}, left)
}

// A batch that falls due when less than a batch's budget is left before For is
// left for the next delivery, which then sends it: a send claimed that late could
// be cut short by the activity's timeout and never resent. The delivery ends by For.
func TestDeliverOutboxClaimsNothingInItsLastBudget(t *testing.T) {
	h, _ := outboxHarness(t) // budget 1s
	h.recordOutbox("case-now", 1, queueMail("case-now", 1, "now@example.com"))
	h.recordOutbox("case-late", 1, queueMail("case-late", 1, "late@example.com"))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `UPDATE outbox SET next_attempt_at = now() + interval '800 milliseconds' WHERE case_id = 'case-late'`)
	require.NoError(t, err)

	start := time.Now()
	res := h.deliverOutbox(1500 * time.Millisecond)
	assert.Less(t, time.Since(start), 1500*time.Millisecond, "done by For")
	assert.Equal(t, 1, res.Delivered)
	assert.Equal(t, []string{"now@example.com"}, h.recipients())
	assert.Equal(t, 1, h.outboxDepth(), "the late batch waits")

	res = h.deliverOutbox(3 * time.Second) // the next poll falls inside its claim window
	assert.Equal(t, 1, res.Delivered)
	assert.Equal(t, []string{"now@example.com", "late@example.com"}, h.recipients())

	_, err = h.env.ExecuteActivity(h.acts.DeliverOutbox, activities.DeliverOutboxInput{Shard: 0, Shards: 1, For: time.Second})
	assert.ErrorContains(t, err, "must exceed a batch's budget", "a For no batch fits in is refused")
}

// A batch the worker cannot decode is not settled as delivered: it stays in the
// outbox with the error, is retried with backoff, and is logged as an error.
func TestDeliverOutboxKeepsAnUndecodableBatch(t *testing.T) {
	h, _ := outboxHarness(t)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	view := tierflow.CaseView{ID: "case-u", Source: "zendesk", ExternalID: "case-u", Seq: 1, Status: tierflow.StatusOpen,
		Tier: 1, StartTier: 1, Priority: tierflow.PriorityNormal, Subject: "Charged twice",
		Trigger: tierflow.TriggerUnresolved, OpenedAt: at, EscalatedAt: at}
	require.NoError(t, h.store.RecordTransitionWithOutbox(context.Background(), tierflow.Transition{CaseID: "case-u", View: view,
		Events: []tierflow.CaseEvent{{CaseID: "case-u", Seq: 1, Type: tierflow.EventNote, At: at, Actor: tierflow.SystemActor,
			Tier: 1, Status: tierflow.StatusOpen}}},
		[]tierflow.OutboxBatch{{Seq: 1, Batch: []byte(`{"messages": "not a list"}`)}}))

	res := h.deliverOutbox(1500 * time.Millisecond)
	assert.Zero(t, res.Delivered)
	assert.Positive(t, res.Retried)
	assert.Equal(t, 1, h.outboxDepth(), "still undelivered")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var lastError string
	var retryAt time.Time
	require.NoError(t, conn.QueryRow(ctx, `SELECT last_error, next_attempt_at FROM outbox WHERE case_id = 'case-u'`).
		Scan(&lastError, &retryAt))
	assert.Contains(t, lastError, "the batch does not decode")
	assert.True(t, retryAt.After(time.Now()), "retried later, with backoff")
	assert.Contains(t, h.logs.String(), "level=ERROR")
	assert.Contains(t, h.logs.String(), "outbox: batch does not decode")
}
