package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tierflow/tierflow"
)

// List page sizes.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// querier is what pool and transaction have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// GetCase returns the stored projection of a case; CodeNotFound when absent.
func (s *Store) GetCase(ctx context.Context, id string) (tierflow.CaseView, error) {
	var view tierflow.CaseView
	err := s.pool.QueryRow(ctx, `SELECT view FROM cases WHERE id = $1`, id).Scan(&view)
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.CaseView{}, tierflow.Errorf(tierflow.CodeNotFound, "case %q not found", id)
	}
	if err != nil {
		return tierflow.CaseView{}, fmt.Errorf("get case %s: %w", id, mapError(err))
	}
	return view, nil
}

// listCursor is the position after the last case of a page: lists are ordered
// newest first by (opened_at, id).
type listCursor struct {
	OpenedAt time.Time `json:"o"`
	ID       string    `json:"i"`
}

func encodeCursor(c listCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (listCursor, error) {
	var c listCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" || c.OpenedAt.IsZero() {
		return listCursor{}, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid list cursor",
			Fields: []tierflow.FieldError{{Field: "cursor", Message: "is not a cursor returned by this list"}}, Err: err}
	}
	return c, nil
}

// ListCases returns one page of cases matching f, newest first (by opened_at, then
// id). Limit defaults to 50 and is capped at 200; NextCursor is set when more
// cases follow.
func (s *Store) ListCases(ctx context.Context, f tierflow.CaseFilter) (tierflow.CasePage, error) {
	where, args, limit, err := listConditions(f)
	if err != nil {
		return tierflow.CasePage{}, err
	}
	sql := `SELECT view, opened_at, id FROM cases` + where +
		` ORDER BY opened_at DESC, id DESC LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return tierflow.CasePage{}, fmt.Errorf("list cases: %w", mapError(err))
	}
	page := tierflow.CasePage{Cases: []tierflow.CaseView{}}
	var last listCursor
	for rows.Next() {
		var view tierflow.CaseView
		var cur listCursor
		if err := rows.Scan(&view, &cur.OpenedAt, &cur.ID); err != nil {
			rows.Close()
			return tierflow.CasePage{}, fmt.Errorf("list cases: %w", mapError(err))
		}
		if len(page.Cases) == limit {
			page.NextCursor = encodeCursor(last)
			break
		}
		page.Cases = append(page.Cases, view)
		last = cur
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return tierflow.CasePage{}, fmt.Errorf("list cases: %w", mapError(err))
	}
	return page, nil
}

// listConditions validates the filter and builds its WHERE clause.
func listConditions(f tierflow.CaseFilter) (string, []any, int, error) {
	var v tierflow.Validation
	v.Check(f.Status == "" || f.Status.Valid(), "status", "unknown status %q", f.Status)
	v.Check(f.Tier == 0 || f.Tier.Valid(), "tier", "must be 1 to 4, got %d", f.Tier)
	v.Check(f.Priority == "" || f.Priority.Valid(), "priority", "unknown priority %q", f.Priority)
	v.Check(f.Limit >= 0, "limit", "must not be negative")
	if err := v.Err("invalid case filter"); err != nil {
		return "", nil, 0, err
	}
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.Tier != 0 {
		add("tier = ?", f.Tier)
	}
	if f.Priority != "" {
		add("priority = ?", f.Priority)
	}
	if f.Department != "" {
		add("department = ?", f.Department)
	}
	if f.Assignee != "" {
		add("assignee = ?", f.Assignee)
	}
	if f.Source != "" {
		add("source = ?", f.Source)
	}
	if len(f.Sources) > 0 {
		add("source = ANY(?)", f.Sources)
	}
	if f.Breached != nil {
		add("breached = ?", *f.Breached)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, 0, err
		}
		args = append(args, c.OpenedAt, c.ID)
		conds = append(conds, fmt.Sprintf("(opened_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	if len(conds) == 0 {
		return "", args, limit, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, limit, nil
}

// CaseEvents returns the audit log of a case, oldest first; CodeNotFound when the
// case is unknown.
func (s *Store) CaseEvents(ctx context.Context, id string) ([]tierflow.CaseEvent, error) {
	events, err := queryEvents(ctx, s.pool, `WHERE case_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("case events of %s: %w", id, mapError(err))
	}
	if len(events) == 0 {
		if _, err := s.GetCase(ctx, id); err != nil {
			return nil, err
		}
	}
	return events, nil
}

// queryEvents reads events matching where (which may use $1...): case by case
// (in case ID order, for a where that matches several), each case's oldest first.
func queryEvents(ctx context.Context, q querier, where string, args ...any) ([]tierflow.CaseEvent, error) {
	rows, err := q.Query(ctx, `
SELECT case_id, seq, type, at, actor_id, actor_name, actor_role, actor_tier, tier, coalesce(from_tier, 0),
    status, department, reason, summary, customer_message, details
FROM case_events `+where+` ORDER BY case_id, seq`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (tierflow.CaseEvent, error) {
		var e tierflow.CaseEvent
		err := row.Scan(&e.CaseID, &e.Seq, &e.Type, &e.At, &e.Actor.ID, &e.Actor.Name, &e.Actor.Role,
			&e.Actor.Tier, &e.Tier, &e.FromTier, &e.Status, &e.Department, &e.Reason, &e.Summary,
			&e.CustomerMessage, &e.Details)
		if len(e.Details) == 0 {
			e.Details = nil
		}
		e.At = e.At.UTC()
		return e, err
	})
}
