package tierflow

import (
	"context"
	"time"
)

// CaseFilter selects cases for lists.
type CaseFilter struct {
	Status     Status
	Tier       Tier
	Priority   Priority
	Department string
	Assignee   string
	Source     string
	// Sources, when not empty, keeps only cases of one of these sources (the
	// sources a scoped integration may read); Source still narrows it further.
	Sources  []string
	Breached *bool
	Limit    int
	Cursor   string
}

// CasePage is one page of a list.
type CasePage struct {
	Cases      []CaseView `json:"cases"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// CaseReader reads the durable record for lists, timelines and reports.
type CaseReader interface {
	GetCase(ctx context.Context, id string) (CaseView, error) // *Error CodeNotFound when absent
	ListCases(ctx context.Context, f CaseFilter) (CasePage, error)
	CaseEvents(ctx context.Context, id string) ([]CaseEvent, error)
	KPIs(ctx context.Context, q KPIQuery) (KPIReport, error)
}

// KPIQuery asks for the KPIs of cases opened in [From, To).
type KPIQuery struct {
	From    time.Time
	To      time.Time
	GroupBy string // "", category, department, tier, priority
}

// KPIs are the seeds' indicators for one group of cases.
type KPIs struct {
	Group                   string           `json:"group,omitempty"`
	CasesOpened             int              `json:"cases_opened"`
	EscalatedCases          int              `json:"escalated_cases"`
	EscalationRate          float64          `json:"escalation_rate"`
	EscalationsToTier       map[string]int   `json:"escalations_to_tier"`
	FirstTierResolutionRate float64          `json:"first_tier_resolution_rate"`
	ResolvedCases           int              `json:"resolved_cases"`
	TimeToResolutionP50     *Duration        `json:"time_to_resolution_p50"`
	TimeToResolutionP90     *Duration        `json:"time_to_resolution_p90"`
	ResolvedWithin30Days    float64          `json:"resolved_within_30_days"`
	SLABreachesByTier       map[string]int   `json:"sla_breaches_by_tier"`
	CSATAverage             *float64         `json:"csat_average"`
	CSATDistribution        map[string]int   `json:"csat_distribution"`
	SurveyResponseRate      float64          `json:"survey_response_rate"`
	ReopenRate              float64          `json:"reopen_rate"`
	CompensationCents       map[string]int64 `json:"compensation_cents"` // by currency
	TopCategories           []CategoryCount  `json:"top_categories"`
}

// CategoryCount is one recurring category and how many escalated cases it caused.
type CategoryCount struct {
	Category string `json:"category"`
	Cases    int    `json:"cases"`
}

// KPIReport is the KPI answer: the total and, with GroupBy, one row per group.
type KPIReport struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	GroupBy string    `json:"group_by,omitempty"`
	Total   KPIs      `json:"total"`
	Groups  []KPIs    `json:"groups,omitempty"`
}

// Store is everything the product keeps in PostgreSQL.
type Store interface {
	CaseRecorder
	NotificationLedger
	Directory
	CaseReader
}
