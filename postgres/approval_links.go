package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tierflow/tierflow"
)

// ClaimApprovalLink claims the single use of link's request (case, approval,
// tier) at now, before its decision is sent. It returns the claim (its ClaimedAt
// fences SettleApprovalLink) and claimed=true when this call owns it; otherwise
// the row as it stands: used, or claimed by another request less than staleAfter
// ago. A claim older than staleAfter belongs to a request that died between its
// claim and its settling: it is taken over (the decision it may have sent has a
// deterministic ID, so sending it again is harmless).
func (s *Store) ClaimApprovalLink(ctx context.Context, link tierflow.ApprovalLink, now time.Time, staleAfter time.Duration) (tierflow.ApprovalLinkUse, bool, error) {
	now = now.UTC().Truncate(time.Microsecond) // the precision of timestamptz: the fence must compare equal
	use := tierflow.ApprovalLinkUse{CaseID: link.CaseID, ApprovalID: link.ApprovalID, Tier: link.Tier,
		Decision: link.Decision, State: tierflow.ApprovalLinkClaimed, ClaimedAt: now}
	tag, err := s.pool.Exec(ctx, claimApprovalLinkSQL, link.CaseID, link.ApprovalID, int(link.Tier), string(link.Decision),
		now, now.Add(-staleAfter))
	if err != nil {
		return tierflow.ApprovalLinkUse{}, false, fmt.Errorf("claim approval link %s/%s: %w", link.CaseID, link.ApprovalID, mapError(err))
	}
	if tag.RowsAffected() == 1 {
		return use, true, nil
	}
	current, found, err := s.ApprovalLinkUse(ctx, link)
	if err != nil {
		return tierflow.ApprovalLinkUse{}, false, err
	}
	if !found { // released between the two statements: the caller may try again
		return tierflow.ApprovalLinkUse{}, false, tierflow.Errorf(tierflow.CodeUnavailable, "the approval link is being settled; try again")
	}
	return current, false, nil
}

const claimApprovalLinkSQL = `
INSERT INTO approval_links (case_id, approval_id, tier, decision, state, claimed_at)
VALUES ($1, $2, $3, $4, 'claimed', $5)
ON CONFLICT (case_id, approval_id, tier) DO UPDATE
    SET decision = EXCLUDED.decision, claimed_at = EXCLUDED.claimed_at
    WHERE approval_links.state = 'claimed' AND approval_links.claimed_at < $6`

// ApprovalLinkUse reads the use of link's request; found is false when no link
// of it was used or claimed. It changes nothing (the GET of a link reads it).
func (s *Store) ApprovalLinkUse(ctx context.Context, link tierflow.ApprovalLink) (tierflow.ApprovalLinkUse, bool, error) {
	use := tierflow.ApprovalLinkUse{CaseID: link.CaseID, ApprovalID: link.ApprovalID, Tier: link.Tier}
	var decision string
	err := s.pool.QueryRow(ctx, `SELECT decision, state, claimed_at FROM approval_links
		WHERE case_id = $1 AND approval_id = $2 AND tier = $3`, link.CaseID, link.ApprovalID, int(link.Tier)).
		Scan(&decision, &use.State, &use.ClaimedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.ApprovalLinkUse{}, false, nil
	}
	if err != nil {
		return tierflow.ApprovalLinkUse{}, false, fmt.Errorf("read approval link %s/%s: %w", link.CaseID, link.ApprovalID, mapError(err))
	}
	use.Decision = tierflow.Action(decision)
	return use, true, nil
}

// SettleApprovalLink ends the claim: used=true marks the link used for good (the
// case applied its decision); used=false deletes the claim (the case refused the
// decision, so the link changed nothing). A claim taken over since (another
// ClaimedAt) is left alone: CodeConflict tells the stale caller so.
func (s *Store) SettleApprovalLink(ctx context.Context, claim tierflow.ApprovalLinkUse, used bool, now time.Time) error {
	var (
		tag pgconn.CommandTag
		err error
	)
	if used {
		tag, err = s.pool.Exec(ctx, `UPDATE approval_links SET state = 'used', used_at = $5
			WHERE case_id = $1 AND approval_id = $2 AND tier = $3 AND state = 'claimed' AND claimed_at = $4`,
			claim.CaseID, claim.ApprovalID, int(claim.Tier), claim.ClaimedAt, now.UTC())
	} else {
		tag, err = s.pool.Exec(ctx, `DELETE FROM approval_links
			WHERE case_id = $1 AND approval_id = $2 AND tier = $3 AND state = 'claimed' AND claimed_at = $4`,
			claim.CaseID, claim.ApprovalID, int(claim.Tier), claim.ClaimedAt)
	}
	if err != nil {
		return fmt.Errorf("settle approval link %s/%s: %w", claim.CaseID, claim.ApprovalID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return tierflow.Errorf(tierflow.CodeConflict, "the claim of approval link %s/%s was taken over", claim.CaseID, claim.ApprovalID)
	}
	return nil
}
