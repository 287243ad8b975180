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

	// The funnel: cases by the tier they started at and by the highest tier they
	// reached (tiers "1"-"4", each present, zero included).
	CasesByStartTier   map[string]int `json:"cases_by_start_tier"`
	CasesByHighestTier map[string]int `json:"cases_by_highest_tier"`
	// SLABreachesByTierAndClock splits SLABreachesByTier by the breached clock
	// (tier -> clock -> breaches).
	SLABreachesByTierAndClock map[string]map[string]int `json:"sla_breaches_by_tier_and_clock"`
	// TimeToResolutionHistogram counts resolved cases per ResolutionTimeBuckets
	// bucket, every bucket present, in order.
	TimeToResolutionHistogram []DurationBucket `json:"time_to_resolution_histogram"`
	// ResolvedWithinCloseTarget: cases resolved without breaching their policy's
	// close target, over cases opened.
	ResolvedWithinCloseTarget float64 `json:"resolved_within_close_target"`
}

// DurationBucket counts the cases whose duration d is From <= d < Below (Below nil:
// no upper bound).
type DurationBucket struct {
	From  Duration  `json:"from"`
	Below *Duration `json:"below"`
	Cases int       `json:"cases"`
}

// ResolutionTimeBuckets are the lower bounds of the time-to-resolution histogram's
// buckets; the last bucket has no upper bound.
var ResolutionTimeBuckets = []time.Duration{0, time.Hour, 4 * time.Hour, 8 * time.Hour, Day, 3 * Day, 7 * Day, 14 * Day, 30 * Day}

// NewResolutionHistogram is the histogram's buckets, every count zero.
func NewResolutionHistogram() []DurationBucket {
	out := make([]DurationBucket, len(ResolutionTimeBuckets))
	for i, from := range ResolutionTimeBuckets {
		out[i].From = Duration{Duration: from}
		if i+1 < len(ResolutionTimeBuckets) {
			out[i].Below = &Duration{Duration: ResolutionTimeBuckets[i+1]}
		}
	}
	return out
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
