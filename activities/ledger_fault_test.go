package activities_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// Faults of the ledger itself are hard to provoke in a real database at the right
// instant; these tests use a hand-written in-memory store with switchable failures.

type memStore struct {
	tierflow.Store // only the ledger is implemented; anything else panics

	mu                 sync.Mutex
	rows               map[string]tierflow.NotificationRecord
	failMarkSent       bool
	failRelease        bool
	failMarkFailedOnce bool
}

func newMemStore() *memStore { return &memStore{rows: map[string]tierflow.NotificationRecord{}} }

var errDown = &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "database unavailable"}

func (s *memStore) ClaimNotification(_ context.Context, c tierflow.NotificationClaim) (tierflow.NotificationRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[c.Key]
	if ok && r.State != tierflow.NotificationNew {
		return r, nil
	}
	r = tierflow.NotificationRecord{Key: c.Key, CaseID: c.CaseID, Kind: c.Kind, State: tierflow.NotificationSending,
		Attempts: r.Attempts + 1, UpdatedAt: time.Now()}
	s.rows[c.Key] = r
	r.State = tierflow.NotificationNew
	return r, nil
}

// update applies a fenced change as the real ledger does.
func (s *memStore) update(key string, claim int, to tierflow.NotificationState, id, reason string) error {
	r, ok := s.rows[key]
	if !ok {
		return &tierflow.Error{Code: tierflow.CodeNotFound, Message: "no such key"}
	}
	if r.Attempts == claim && r.State == to {
		return nil
	}
	fromUnconfirmed := r.State == tierflow.NotificationUnconfirmed &&
		(to == tierflow.NotificationSent || to == tierflow.NotificationFailed)
	if r.Attempts != claim || r.State != tierflow.NotificationSending && !fromUnconfirmed {
		return &tierflow.Error{Code: tierflow.CodeConflict, Message: "stale claim"}
	}
	r.State, r.ProviderMessageID, r.Error = to, id, reason
	s.rows[key] = r
	return nil
}

func (s *memStore) MarkNotificationSent(_ context.Context, key string, claim int, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failMarkSent {
		return errDown
	}
	return s.update(key, claim, tierflow.NotificationSent, id, "")
}

func (s *memStore) MarkNotificationFailed(_ context.Context, key string, claim int, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failMarkFailedOnce {
		s.failMarkFailedOnce = false
		return errDown
	}
	return s.update(key, claim, tierflow.NotificationFailed, "", reason)
}

func (s *memStore) MarkNotificationUnconfirmed(_ context.Context, key string, claim int, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failMarkFailedOnce {
		s.failMarkFailedOnce = false
		return errDown
	}
	return s.update(key, claim, tierflow.NotificationUnconfirmed, "", reason)
}

func (s *memStore) ReleaseNotification(_ context.Context, key string, claim int, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failRelease {
		return errDown
	}
	return s.update(key, claim, tierflow.NotificationNew, "", reason)
}

func (s *memStore) row(key string) tierflow.NotificationRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows[key]
}

// scriptedMailer answers with the next error of its script (nil: success).
type scriptedMailer struct {
	mu     sync.Mutex
	script []error
	sends  int
}

func (m *scriptedMailer) Send(context.Context, tierflow.Email) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sends++
	if len(m.script) > 0 {
		err := m.script[0]
		m.script = m.script[1:]
		if err != nil {
			return "", err
		}
	}
	return "msg-1", nil
}

func newMemActivities(store *memStore, mailer *scriptedMailer) (*activities.Activities, func(activities.NotifyCustomerInput) (activities.NotifyResult, error), *syncBuffer) {
	acts := &activities.Activities{Store: store, Mailer: mailer}
	logs := &syncBuffer{}
	env := newActivityEnv(acts, logs)
	return acts, func(in activities.NotifyCustomerInput) (activities.NotifyResult, error) {
		var res activities.NotifyResult
		val, err := env.ExecuteActivity(acts.NotifyCustomer, in)
		if err == nil {
			err = val.Get(&res)
		}
		return res, err
	}, logs
}

func TestSentEvenWhenTheLedgerUpdateFails(t *testing.T) {
	store, mailer := newMemStore(), &scriptedMailer{}
	store.failMarkSent = true
	_, notify, logs := newMemActivities(store, mailer)
	in := escalatedInput("k/1/escalated")

	res, err := notify(in)
	require.NoError(t, err, "the message went out: no retry that could resend it")
	assert.Equal(t, activities.StateSent, res.State)
	assert.Equal(t, tierflow.NotificationSending, store.row(in.Key).State)
	assert.Contains(t, logs.String(), "ledger was not updated")

	res, err = notify(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State, "a later retry does not resend")
	assert.Equal(t, 1, mailer.sends)
}

func TestReleaseFailureNeverLeadsToADoubleSend(t *testing.T) {
	store := newMemStore()
	mailer := &scriptedMailer{script: []error{&tierflow.Error{Code: tierflow.CodeUnavailable, Message: "503"}}}
	store.failRelease = true
	_, notify, _ := newMemActivities(store, mailer)
	in := escalatedInput("k/2/escalated")

	_, err := notify(in)
	appErr := applicationError(t, err)
	assert.Equal(t, activities.ErrTypeEmailUnavailable, appErr.Type())
	assert.Equal(t, 30*time.Second, appErr.NextRetryDelay(), "no RetryAfter: the default wait")

	res, err := notify(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State, "the claim was never released: treated as unknown")
	assert.Equal(t, 1, mailer.sends)
}

func TestSettlingAfterACrashRetriesOnLedgerFailure(t *testing.T) {
	store, mailer := newMemStore(), &scriptedMailer{}
	_, notify, _ := newMemActivities(store, mailer)
	in := escalatedInput("k/3/escalated")
	_, err := store.ClaimNotification(context.Background(), tierflow.NotificationClaim{Key: in.Key, CaseID: in.CaseID,
		Kind: in.Kind, Audience: tierflow.AudienceCustomer, Recipients: 1}) // an attempt that then "crashed"
	require.NoError(t, err)
	store.failMarkFailedOnce = true

	_, err = notify(in)
	appErr := applicationError(t, err)
	assert.False(t, appErr.NonRetryable(), "a ledger outage is retried")
	res, err := notify(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Equal(t, tierflow.NotificationUnconfirmed, store.row(in.Key).State)
	assert.Zero(t, mailer.sends)
}

func TestMailerBreakingItsContractIsTreatedAsUnknown(t *testing.T) {
	store := newMemStore()
	mailer := &scriptedMailer{script: []error{errors.New("something odd")}}
	_, notify, _ := newMemActivities(store, mailer)
	in := escalatedInput("k/4/escalated")

	res, err := notify(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Contains(t, res.Error, "something odd")
	res, err = notify(in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Equal(t, 1, mailer.sends)
}
