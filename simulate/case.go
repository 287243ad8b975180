package simulate

import (
	"context"
	"time"

	"github.com/tierflow/tierflow"
)

// CaseLog is one past case as the durable record holds it: its identity, its
// priority, the CRM's opening instant (where the close target starts) and its
// audit log in order.
type CaseLog struct {
	CaseID     string               `json:"case_id"`
	Source     string               `json:"source"`
	ExternalID string               `json:"external_id"`
	Priority   tierflow.Priority    `json:"priority"`
	OpenedAt   time.Time            `json:"opened_at"`
	Events     []tierflow.CaseEvent `json:"events"`
}

// Window selects the past cases to replay: opened in [From, To), from Source
// when set. AsOf is the instant the simulation stops for cases still running
// (the recorded run could not have seen past it either); zero means now.
type Window struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Source string    `json:"source,omitempty"`
	AsOf   time.Time `json:"as_of"`
}

// MaxCases bounds one simulation: a window holding more cases is refused, so
// that one request can neither read nor replay an unbounded history.
const MaxCases = 5000

// Validate checks the window: both ends set, To after From, at most a year.
func (w Window) Validate() error {
	var v tierflow.Validation
	v.Check(!w.From.IsZero(), "from", "is required (RFC 3339)")
	v.Check(!w.To.IsZero(), "to", "is required (RFC 3339)")
	if !w.From.IsZero() && !w.To.IsZero() {
		v.Check(w.To.After(w.From), "to", "must be after from")
		v.Check(w.To.Sub(w.From) <= 366*tierflow.Day, "to", "the window spans at most 366 days")
	}
	v.Check(len(w.Source) <= 64, "source", "is at most 64 characters")
	return v.Err("invalid simulation window")
}

// Page is one keyset page of a Reader: cases ordered by (OpenedAt, CaseID).
type Page struct {
	Cases []CaseLog
	// Next is the key to continue after; nil on the last page.
	Next *PageKey
}

// PageKey is the position after the last case of a page.
type PageKey struct {
	OpenedAt time.Time
	CaseID   string
}

// Reader reads the record of past cases, read-only. ReadCases returns at most
// limit cases of the window after key (nil: from the start), each with its
// whole audit log.
type Reader interface {
	ReadCases(ctx context.Context, w Window, after *PageKey, limit int) (Page, error)
}
