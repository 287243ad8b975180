package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

// Mailbox list sizes.
const (
	defaultMailLimit = 50
	maxMailLimit     = 500
)

// SaveMail keeps a dev email. Saving the same Key again returns the first id and
// changes nothing, so a retried send never shows twice.
func (s *Store) SaveMail(ctx context.Context, m tierflow.MailboxMessage) (int64, error) {
	if m.Key == "" {
		return 0, tierflow.Errorf(tierflow.CodeInvalid, "mail key is required")
	}
	createdAt := m.CreatedAt
	if createdAt.IsZero() {
		createdAt = time.Now()
	}
	to := m.To
	if to == nil {
		to = []string{}
	}
	// The statement's snapshot may miss a row committed by a concurrent save of
	// the same key after it started: try once more, which then sees it.
	var id int64
	var err error
	for range 2 {
		err = s.pool.QueryRow(ctx, saveMailSQL, m.Key, m.CaseID, m.Kind, to, m.Subject, m.Text, m.HTML, createdAt).Scan(&id)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("save mail %s: %w", m.Key, mapError(err))
	}
	return id, nil
}

const saveMailSQL = `
WITH inserted AS (
    INSERT INTO mailbox (key, case_id, kind, recipients, subject, text, html, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (key) DO NOTHING
    RETURNING id
)
SELECT id FROM inserted
UNION ALL
SELECT id FROM mailbox WHERE key = $1
LIMIT 1`

const mailColumns = `id, key, case_id, kind, recipients, subject, text, html, created_at`

// ListMail returns kept emails, newest first: those of caseID, or all when empty.
// Limit defaults to 50 and is capped at 500.
func (s *Store) ListMail(ctx context.Context, caseID string, limit int) ([]tierflow.MailboxMessage, error) {
	if limit <= 0 {
		limit = defaultMailLimit
	}
	limit = min(limit, maxMailLimit)
	rows, err := s.pool.Query(ctx, `SELECT `+mailColumns+` FROM mailbox
WHERE $1 = '' OR case_id = $1 ORDER BY id DESC LIMIT $2`, caseID, limit)
	if err != nil {
		return nil, fmt.Errorf("list mail: %w", mapError(err))
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tierflow.MailboxMessage, error) {
		return scanMail(row)
	})
	if err != nil {
		return nil, fmt.Errorf("list mail: %w", mapError(err))
	}
	return msgs, nil
}

// GetMail returns one kept email; CodeNotFound when unknown.
func (s *Store) GetMail(ctx context.Context, id int64) (tierflow.MailboxMessage, error) {
	m, err := scanMail(s.pool.QueryRow(ctx, `SELECT `+mailColumns+` FROM mailbox WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.MailboxMessage{}, tierflow.Errorf(tierflow.CodeNotFound, "mail %d not found", id)
	}
	if err != nil {
		return tierflow.MailboxMessage{}, fmt.Errorf("get mail %d: %w", id, mapError(err))
	}
	return m, nil
}

func scanMail(row pgx.Row) (tierflow.MailboxMessage, error) {
	var m tierflow.MailboxMessage
	err := row.Scan(&m.ID, &m.Key, &m.CaseID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, &m.CreatedAt)
	m.CreatedAt = m.CreatedAt.UTC()
	return m, err
}
