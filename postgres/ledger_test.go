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
	require.NoError(t, s.ReleaseNotification(ctx, key, "429 too many requests"))
	retry, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationNew, retry.State)
	assert.Equal(t, 2, retry.Attempts)
	assert.Empty(t, retry.Error, "a new claim clears the released error")

	require.NoError(t, s.MarkNotificationSent(ctx, key, "sg-1"))
	require.NoError(t, s.MarkNotificationSent(ctx, key, "sg-2"), "a repeated confirmation is harmless")
	after, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationSent, after.State)
	assert.Equal(t, "sg-1", after.ProviderMessageID, "the first provider id is kept")
	assert.Equal(t, 2, after.Attempts)

	requireCode(t, s.ReleaseNotification(ctx, key, "late"), tierflow.CodeConflict)
	requireCode(t, s.MarkNotificationFailed(ctx, key, "late"), tierflow.CodeConflict)
}

func TestLedgerFailedIsNotSentAgain(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	key := "zendesk-1/4/resolution"
	_, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	require.NoError(t, s.MarkNotificationFailed(ctx, key, "400 invalid recipient"))

	rec, err := s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationFailed, rec.State)
	assert.Equal(t, "400 invalid recipient", rec.Error)

	// An operator may release a failed message to have it sent again.
	require.NoError(t, s.ReleaseNotification(ctx, key, "address fixed"))
	rec, err = s.ClaimNotification(ctx, claim(key))
	require.NoError(t, err)
	assert.Equal(t, tierflow.NotificationNew, rec.State)
}

func TestLedgerErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	requireCode(t, s.MarkNotificationSent(ctx, "unknown", "sg"), tierflow.CodeNotFound)
	requireCode(t, s.ReleaseNotification(ctx, "unknown", "x"), tierflow.CodeNotFound)
	requireCode(t, s.MarkNotificationFailed(ctx, "", "x"), tierflow.CodeInvalid)

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
			require.NoError(t, s.ReleaseNotification(ctx, key, "retry"))
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
