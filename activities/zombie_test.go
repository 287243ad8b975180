package activities_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// gatedMailer holds its first send until the test opens the gate, then fails it
// with firstErr; later sends succeed.
type gatedMailer struct {
	firstErr error
	entered  chan struct{}
	gate     chan struct{}

	mu    sync.Mutex
	sends int
}

func newGatedMailer(firstErr error) *gatedMailer {
	return &gatedMailer{firstErr: firstErr, entered: make(chan struct{}), gate: make(chan struct{})}
}

func (m *gatedMailer) Send(context.Context, tierflow.Email) (string, error) {
	m.mu.Lock()
	m.sends++
	first := m.sends == 1
	m.mu.Unlock()
	if !first {
		return "msg-2", nil
	}
	close(m.entered)
	<-m.gate
	return "", m.firstErr
}

func (m *gatedMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sends
}

// A zombie attempt (past its timeout, still running) must not undo what a later
// attempt decided: its ledger updates are fenced on its claim.
func TestZombieAttemptCannotReopenASettledMessage(t *testing.T) {
	h := newHarness(t)
	notAccepted := &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "email provider answered 429: too many requests"}
	mailer := newGatedMailer(notAccepted)
	acts := *h.acts
	acts.Mailer = mailer
	zombieLogs, laterLogs := &syncBuffer{}, &syncBuffer{}
	zombieEnv, laterEnv := newActivityEnv(&acts, zombieLogs), newActivityEnv(&acts, laterLogs)
	in := escalatedInput("zendesk-4711/40/escalated")

	zombieDone := make(chan error, 1)
	go func() {
		_, err := run[activities.NotifyResult](t, zombieEnv, acts.NotifyCustomer, in)
		zombieDone <- err
	}()
	select {
	case <-mailer.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the first attempt never reached the provider")
	}

	// Temporal gave up on the first attempt; the retry finds the key claimed.
	res, err := run[activities.NotifyResult](t, laterEnv, acts.NotifyCustomer, in)
	require.NoError(t, err)
	require.Equal(t, activities.StateUnconfirmed, res.State)
	settled := h.ledger(in.Key)

	// The zombie learns that its request was not accepted and tries to release.
	close(mailer.gate)
	select {
	case <-zombieDone:
	case <-time.After(30 * time.Second):
		t.Fatal("the zombie attempt never finished")
	}
	after := h.ledger(in.Key)
	assert.Equal(t, settled.State, after.State, "the zombie's release changed nothing")
	assert.Equal(t, settled.Error, after.Error)
	assert.Contains(t, zombieLogs.String(), "stale", "the stale update is reported")

	res, err = run[activities.NotifyResult](t, laterEnv, acts.NotifyCustomer, in)
	require.NoError(t, err)
	assert.NotEqual(t, activities.StateSent, res.State)
	assert.Equal(t, 1, mailer.count(), "the customer is never emailed twice")
}

// slowMailer answers after a delay, as a slow provider does.
type slowMailer struct{ delay time.Duration }

func (m slowMailer) Send(ctx context.Context, _ tierflow.Email) (string, error) {
	select {
	case <-time.After(m.delay):
		return "msg-slow", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// While the provider is slow the activity heartbeats, so that a workflow giving the
// notify activities a HeartbeatTimeout learns of a dead worker early and a live one
// is not mistaken for dead.
func TestNotifyHeartbeatsWhileTheProviderIsSlow(t *testing.T) {
	h := newHarness(t)
	acts := *h.acts
	acts.Mailer = slowMailer{delay: 1500 * time.Millisecond}
	acts.HeartbeatInterval = 100 * time.Millisecond
	env := newActivityEnv(&acts, &syncBuffer{})
	var mu sync.Mutex
	var beats int
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) {
		mu.Lock()
		defer mu.Unlock()
		beats++
	})
	res, err := run[activities.NotifyResult](t, env, acts.NotifyCustomer, escalatedInput("zendesk-4711/41/escalated"))
	require.NoError(t, err)
	assert.Equal(t, activities.StateSent, res.State)
	mu.Lock()
	defer mu.Unlock()
	assert.GreaterOrEqual(t, beats, 1, "the activity heartbeats while it waits for the provider")
}
