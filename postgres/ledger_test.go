package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func claim(key string) tierflow.NotificationClaim {
	return tierflow.NotificationClaim{Key: key, CaseID: "zendesk-1", Kind: tierflow.MsgEscalated,
		Audience: tierflow.AudienceCustomer, Recipients: 1}
}

func TestLedgerClaimReleaseSent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	key := "zendesk-1/3/escalated"

	first, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationNew, first.State, "the first claim owns the send")
	assert.Equal(t, 1, first.Attempts)
	assert.Equal(t, tierflow.MsgEscalated, first.Kind)

	again, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationSending, again.State, "a retry while the outcome is unknown must not send")
	assert.Equal(t, 1, again.Attempts)

	// A 429 certainly sent nothing: release, and the next claim owns it again.
	require.NoError(t, s.ReleaseNotification(ctx, key, first.Attempts, "429 too many requests"))
	retry, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationNew, retry.State)
	assert.Equal(t, 2, retry.Attempts)
	assert.Empty(t, retry.Error, "a new claim clears the released error")

	require.NoError(t, s.MarkNotificationSent(ctx, key, retry.Attempts, "sg-1"))
	require.NoError(t, s.MarkNotificationSent(ctx, key, retry.Attempts, "sg-2"), "a repeated confirmation is harmless")
	after, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationSent, after.State)
	assert.Equal(t, "sg-1", after.ProviderMessageID, "the first provider id is kept")
	assert.Equal(t, 2, after.Attempts)

	requireCode(t, s.ReleaseNotification(ctx, key, retry.Attempts, "late"), tierflow.CodeConflict)
	requireCode(t, s.MarkNotificationFailed(ctx, key, retry.Attempts, "late"), tierflow.CodeConflict)
	requireCode(t, s.MarkNotificationSent(ctx, key, first.Attempts, "sg-0"), tierflow.CodeConflict) // an older claim is stale
}

func TestLedgerFailedIsNotSentAgain(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	key := "zendesk-1/4/resolution"
	first, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	require.NoError(t, s.MarkNotificationFailed(ctx, key, first.Attempts, "400 invalid recipient"))
	require.NoError(t, s.MarkNotificationFailed(ctx, key, first.Attempts, "400 invalid recipient"), "a repeated update is harmless")

	rec, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationFailed, rec.State)
	assert.Equal(t, "400 invalid recipient", rec.Error)
}

// A zombie attempt (past its timeout, still running) updates the ledger late: the
// update is fenced on its claim and changes nothing once a later attempt settled
// the key or claimed it again.
func TestLedgerStaleClaimChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	key := "zendesk-1/6/escalated"
	zombie, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)

	// The retry finds the key sending and settles the zombie's claim.
	seen, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	require.Equal(t, tierflow.NotificationSending, seen.State)
	require.NoError(t, s.MarkNotificationFailed(ctx, key, seen.Attempts, "outcome unknown after a crash; not resent"))

	err = s.ReleaseNotification(ctx, key, zombie.Attempts, "429 too many requests")
	requireCode(t, err, tierflow.CodeConflict)
	assert.Contains(t, err.Error(), "stale claim 1")
	rec, err := s.Notification(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationFailed, rec.State, "a failed row never goes back to new")
	again, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.NotEqual(t, tierflow.NotificationNew, again.State, "nobody may send it again")

	// A claim released and taken again: the first claimant is stale too.
	key = "zendesk-1/7/escalated"
	first, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	require.NoError(t, s.ReleaseNotification(ctx, key, first.Attempts, "429"))
	second, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	require.Equal(t, tierflow.NotificationNew, second.State)
	requireCode(t, s.MarkNotificationFailed(ctx, key, first.Attempts, "late 400"), tierflow.CodeConflict)
	requireCode(t, s.ReleaseNotification(ctx, key, first.Attempts, "late 429"), tierflow.CodeConflict)
	require.NoError(t, s.MarkNotificationSent(ctx, key, second.Attempts, "sg-2"))
	rec, err = s.Notification(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationSent, rec.State)
	assert.Equal(t, "sg-2", rec.ProviderMessageID)
}

func TestLedgerErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	requireCode(t, s.MarkNotificationSent(ctx, "unknown", 1, "sg"), tierflow.CodeNotFound)
	requireCode(t, s.ReleaseNotification(ctx, "unknown", 1, "x"), tierflow.CodeNotFound)
	requireCode(t, s.MarkNotificationFailed(ctx, "", 1, "x"), tierflow.CodeInvalid)
	requireCode(t, s.MarkNotificationFailed(ctx, "k", 0, "x"), tierflow.CodeInvalid)

	bad := claim("k")
	bad.Audience = "everyone"
	_, err := s.ClaimNotification(ctx, bad)
	requireCode(t, err, tierflow.CodeInvalid)
	_, err = s.ClaimNotification(ctx, claim(""))
	requireCode(t, err, tierflow.CodeInvalid)
	assert.Zero(t, countRows(t, s, "notifications"))
}

// However many activity attempts race for a key, exactly one owns the send.
func TestLedgerConcurrentClaimsHaveOneWinner(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for round, key := range []string{"zendesk-1/5/survey", "zendesk-1/5/survey"} {
		if round == 1 {
			require.NoError(t, s.ReleaseNotification(ctx, key, 1, "retry"))
		}
		var winners atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				rec, err := s.ClaimNotification(ctx, claim(key))
				if assert.NoError(t, err) && rec.State == tierflow.NotificationNew {
					winners.Add(1)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), winners.Load(), "round %d", round)
	}
}

// Messages whose outcome is unknown wait in their own state, listed for a person to
// check with claims left "sending"; the claim that left one unconfirmed may still
// settle it when it learns the outcome, nobody else can.
func TestLedgerUnconfirmedIsListedForAPerson(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	unknown, crashed, sent := "zendesk-1/8/escalated", "zendesk-1/9/resolution", "zendesk-1/10/survey"
	u, err := s.ClaimNotification(ctx, claim(unknown))
	require.NoError(t, err)
	require.NoError(t, s.MarkNotificationUnconfirmed(ctx, unknown, u.Attempts, "outcome unknown (502); not resent"))
	require.NoError(t, s.MarkNotificationUnconfirmed(ctx, unknown, u.Attempts, "outcome unknown (502); not resent"), "repeat is harmless")
	_, err = s.ClaimNotification(ctx, claim(crashed)) // an attempt that died and was never retried
	require.NoError(t, err)
	c, err := s.ClaimNotification(ctx, claim(sent))
	require.NoError(t, err)
	require.NoError(t, s.MarkNotificationSent(ctx, sent, c.Attempts, "sg-1"))

	again, err := s.ClaimNotification(ctx, claim(unknown))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationUnconfirmed, again.State, "never claimed again")
	assert.Equal(t, "outcome unknown (502); not resent", again.Error)

	list, err := s.UnconfirmedNotifications(ctx, 0, 100)
	require.NoError(t, err)
	var keys []string
	for _, r := range list {
		keys = append(keys, r.Key+" "+string(r.State))
	}
	assert.ElementsMatch(t, []string{unknown + " unconfirmed", crashed + " sending"}, keys)
	young, err := s.UnconfirmedNotifications(ctx, time.Hour, 100)
	require.NoError(t, err)
	assert.Empty(t, young, "nothing is an hour old yet")
	_, err = s.UnconfirmedNotifications(ctx, 0, 0)
	requireCode(t, err, tierflow.CodeInvalid)

	requireCode(t, s.ReleaseNotification(ctx, unknown, u.Attempts, "late 429"), tierflow.CodeConflict)
	requireCode(t, s.MarkNotificationUnconfirmed(ctx, sent, c.Attempts, "late"), tierflow.CodeConflict)
	requireCode(t, s.MarkNotificationSent(ctx, unknown, u.Attempts+1, "sg-x"), tierflow.CodeConflict)
	require.NoError(t, s.MarkNotificationSent(ctx, unknown, u.Attempts, "sg-late"), "the claimant learned it was sent")
	rec, err := s.Notification(ctx, unknown)
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationSent, rec.State)
	assert.Equal(t, "sg-late", rec.ProviderMessageID)
}
