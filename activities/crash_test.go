package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/fakesendgrid"
	"github.com/tierflow/tierflow/postgres"
	"github.com/tierflow/tierflow/sendgrid"
)

// The crash drills: the provider accepts a message and the worker dies before the
// ledger records it. The retry must not email the customer a second time.

// Environment of the crash child process (this test binary re-executed).
const (
	crashChildEnv    = "TIERFLOW_ACTIVITIES_CRASH_CHILD"
	crashDSNEnv      = "TIERFLOW_CRASH_DSN"
	crashSendGridEnv = "TIERFLOW_CRASH_SENDGRID_URL"
	crashInputEnv    = "TIERFLOW_CRASH_INPUT"
)

// TestCrashDrillKillNine is the real thing: a separate worker process runs
// NotifyCustomer against the same database and fake SendGrid; the fake accepts the
// message (records it as SendGrid would have taken it) and holds the answer; the
// test kills the process with SIGKILL, so no code of it runs after the send. Then
// Temporal's retry (here: the same activity run again in this process) finds the
// key claimed and unsettled, and does not send.
func TestCrashDrillKillNine(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(1, fakesendgrid.Fault{Mode: fakesendgrid.AcceptThenHold})
	in := escalatedInput("zendesk-4711/30/escalated")
	payload, err := json.Marshal(in)
	require.NoError(t, err)

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"=1", crashDSNEnv+"="+h.dsn,
		crashSendGridEnv+"="+h.fake.URL, crashInputEnv+"="+string(payload))
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	require.NoError(t, child.Start())
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	t.Cleanup(func() { _ = child.Process.Kill() })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, h.fake.WaitAccepted(ctx, 1), "the worker process hands the message to the provider")
	require.NoError(t, child.Process.Kill(), "kill -9 the worker")
	select {
	case err := <-exited:
		require.Error(t, err, "the worker died")
		assert.Contains(t, err.Error(), "killed")
	case <-ctx.Done():
		t.Fatal("the killed worker did not exit")
	}

	rec := h.ledger(in.Key)
	require.Equal(t, tierflow.NotificationSending, rec.State, "the worker died between send and ledger update")

	res, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Equal(t, activities.ReasonCrashedWhileSending, res.Error)

	accepted := h.fake.Accepted()
	require.Len(t, accepted, 1, "the provider received exactly one message")
	assert.Equal(t, []string{customerEmail}, accepted[0].Mail.Recipients(), "the customer got one email")
	assert.Equal(t, 1, h.fake.Requests())
	rec = h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationUnconfirmed, rec.State)
	assert.Equal(t, activities.ReasonCrashedWhileSending, rec.Error)
	assert.Equal(t, 1, rec.Attempts, "the retry did not claim it again")

	// Further retries change nothing.
	res, err = h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Len(t, h.fake.Accepted(), 1)
}

// runCrashChild is the worker process of TestCrashDrillKillNine. It only returns
// if nobody kills it, which fails the drill.
func runCrashChild() int {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv(crashDSNEnv), nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "crash child: %v\n", err)
		return 2
	}
	mailer, err := sendgrid.NewMailer(sendgrid.Config{APIKey: apiKey, BaseURL: os.Getenv(crashSendGridEnv),
		From: tierflow.Address{Email: "support@example.com"}, Timeout: 5 * time.Minute})
	if err != nil {
		fmt.Fprintf(os.Stderr, "crash child: %v\n", err)
		return 2
	}
	var in activities.NotifyCustomerInput
	if err := json.Unmarshal([]byte(os.Getenv(crashInputEnv)), &in); err != nil {
		fmt.Fprintf(os.Stderr, "crash child: %v\n", err)
		return 2
	}
	acts := &activities.Activities{Store: store, Mailer: mailer}
	env := newActivityEnv(acts, &syncBuffer{})
	_, err = env.ExecuteActivity(acts.NotifyCustomer, in)
	fmt.Fprintf(os.Stderr, "crash child: the activity returned (%v) instead of being killed\n", err)
	return 3
}

// crashAfterSend hands the message to the real Mailer and then panics: the
// activity unwinds right after the provider accepted, before any ledger write, the
// state a crash at that instant leaves (the in-process twin of the kill -9 drill).
type crashAfterSend struct{ next tierflow.Mailer }

func (c crashAfterSend) Send(ctx context.Context, e tierflow.Email) (string, error) {
	id, err := c.next.Send(ctx, e)
	if err == nil {
		panic("simulated crash after the provider accepted message " + id)
	}
	return id, err
}

func TestCrashDrillInProcess(t *testing.T) {
	h := newHarness(t)
	in := escalatedInput("zendesk-4711/31/escalated")

	crashing := *h.acts
	crashing.Mailer = crashAfterSend{next: h.acts.Mailer}
	_, err := run[activities.NotifyResult](t, newActivityEnv(&crashing, h.logs), crashing.NotifyCustomer, in)
	require.Error(t, err, "the attempt crashed")
	assert.Contains(t, err.Error(), "simulated crash")
	require.Len(t, h.fake.Accepted(), 1)
	assert.Equal(t, tierflow.NotificationSending, h.ledger(in.Key).State)

	res, err := h.notifyCustomer(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Len(t, h.fake.Accepted(), 1, "not resent")
	assert.Equal(t, tierflow.NotificationUnconfirmed, h.ledger(in.Key).State)
}
