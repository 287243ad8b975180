package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

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
