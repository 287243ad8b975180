package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestApprovalLinkIsUsedOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)
	approve := tierflow.ApprovalLink{CaseID: "zendesk-7", ApprovalID: "apr-5", Tier: 3, Decision: tierflow.ActionApprove}
	reject := approve
	reject.Decision = tierflow.ActionReject

	_, found, err := s.ApprovalLinkUse(ctx, approve)
	require.NoError(t, err)
	assert.False(t, found)

	claim, ok, err := s.ClaimApprovalLink(ctx, approve, now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	other, ok, err := s.ClaimApprovalLink(ctx, reject, now.Add(time.Second), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "the same email's other link while the first is being applied")
	assert.Equal(t, tierflow.ApprovalLinkClaimed, other.State)
	assert.Equal(t, tierflow.ActionApprove, other.Decision)

	require.NoError(t, s.SettleApprovalLink(ctx, claim, true, now.Add(2*time.Second)))
	use, found, err := s.ApprovalLinkUse(ctx, reject)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, tierflow.ApprovalLinkUsed, use.State)
	assert.Equal(t, tierflow.ActionApprove, use.Decision)
	_, ok, err = s.ClaimApprovalLink(ctx, approve, now.Add(time.Hour), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "a used link is never claimed again, however old")

	// Another tier's request of the same approval (after a climb) is another row.
	climbed := approve
	climbed.Tier = 4
	_, ok, err = s.ClaimApprovalLink(ctx, climbed, now, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestApprovalLinkClaimReleasedOrTakenOver(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	link := tierflow.ApprovalLink{CaseID: "zendesk-8", ApprovalID: "apr-2", Tier: 2, Decision: tierflow.ActionReject}

	claim, ok, err := s.ClaimApprovalLink(ctx, link, now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.SettleApprovalLink(ctx, claim, false, now), "the case refused: the claim is released")
	_, found, err := s.ApprovalLinkUse(ctx, link)
	require.NoError(t, err)
	assert.False(t, found)

	stale, ok, err := s.ClaimApprovalLink(ctx, link, now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	fresh, ok, err := s.ClaimApprovalLink(ctx, link, now.Add(2*time.Minute), time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "a claim older than staleAfter is a dead request's: taken over")
	err = s.SettleApprovalLink(ctx, stale, true, now.Add(3*time.Minute))
	assert.Equal(t, tierflow.CodeConflict, tierflow.ErrorCode(err), "the stale request settles nothing")
	require.NoError(t, s.SettleApprovalLink(ctx, fresh, true, now.Add(3*time.Minute)))
}

func TestApprovalLinkConcurrentClaimsHaveOneWinner(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now()
	link := tierflow.ApprovalLink{CaseID: "zendesk-9", ApprovalID: "apr-4", Tier: 3, Decision: tierflow.ActionApprove}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.ClaimApprovalLink(ctx, link, now, time.Minute)
			assert.NoError(t, err)
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
}
