package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func dur(d time.Duration) *tierflow.Duration { return &tierflow.Duration{Duration: d} }

// csat is a distribution with every score present.
func csat(counts map[string]int) map[string]int {
	out := map[string]int{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
	for k, v := range counts {
		out[k] = v
	}
	return out
}

// tiers is a tier count with every tier present.
func tiers(counts map[string]int) map[string]int {
	out := map[string]int{"1": 0, "2": 0, "3": 0, "4": 0}
	for k, v := range counts {
		out[k] = v
	}
	return out
}

// hist is the time-to-resolution histogram with these counts, bucket by bucket:
// <1h, 1h-4h, 4h-8h, 8h-1d, 1d-3d, 3d-7d, 7d-14d, 14d-30d, 30d and more.
func hist(counts ...int) []tierflow.DurationBucket {
	out := tierflow.NewResolutionHistogram()
	for i, n := range counts {
		out[i].Cases = n
	}
	return out
}

// Expected figures, computed by hand from kpiCases (see the comments).
var (
	// 20 cases opened in the window; x01 and x02 are outside it.
	wantTotal = tierflow.KPIs{
		CasesOpened: 20,
		// c03 c04 c06 c07 c09 c10 c13 c15 c16 c17
		EscalatedCases: 10,
		EscalationRate: 10.0 / 20,
		// to 2: c03 c04 c06 c07 c10 c13 c15 c16 c17; to 3: c04 c09 c16; to 4: c09
		EscalationsToTier: map[string]int{"2": 9, "3": 3, "4": 1},
		// resolved: c01 c02 c03 c04 c06 c08 c09 c10 c11 c12 c15 c18 c19 c20;
		// at tier 1 throughout: c01 c02 c08 c11 c18 c19
		ResolvedCases:           14,
		FirstTierResolutionRate: 6.0 / 14,
		// hours sorted: 1 2 2 3 4 5 6 8 10 12 20 30 48 800
		// p50 at rank 6.5: (6+8)/2 = 7h; p90 at rank 11.7: 30 + 0.7*18 = 42.6h
		TimeToResolutionP50: dur(7 * time.Hour),
		TimeToResolutionP90: dur(42*time.Hour + 36*time.Minute),
		// all resolved cases but c09 (800h), over the 20 opened
		ResolvedWithin30Days: 13.0 / 20,
		// tier 1: c03 c04; tier 2: c04 c07 c09 c16; tier 3: c09
		SLABreachesByTier: map[string]int{"1": 2, "2": 4, "3": 1},
		// 5 5 5 4 4 4 3 3 2 1 = 36 over 10 answers; 13 surveys sent
		CSATAverage:        ptr(36.0 / 10),
		CSATDistribution:   csat(map[string]int{"1": 1, "2": 1, "3": 2, "4": 3, "5": 3}),
		SurveyResponseRate: 10.0 / 13,
		// c04 c11 reopened, of 14 resolved
		ReopenRate: 2.0 / 14,
		// EUR: 2500 (c03) + 50000 (c04) + 120000 (c09) + 3000 (c20); USD: 1000 (c06) + 500 (c09).
		// approval_requested amounts do not count.
		CompensationCents: map[string]int64{"EUR": 175500, "USD": 1500},
		// escalated cases by named category: delivery 3, billing 2, then ties of 1 by name
		// (account, login, refund; warranty is sixth)
		TopCategories: []tierflow.CategoryCount{
			{Category: "delivery", Cases: 3}, {Category: "billing", Cases: 2},
			{Category: "account", Cases: 1}, {Category: "login", Cases: 1}, {Category: "refund", Cases: 1},
		},
		// started above tier 1: c09 (2), c05 c12 (3), c20 (4)
		CasesByStartTier: tiers(map[string]int{"1": 16, "2": 1, "3": 2, "4": 1}),
		// highest 2: c03 c06 c07 c10 c13 c15 c17; 3: c04 c05 c12 c16; 4: c09 c20
		CasesByHighestTier: tiers(map[string]int{"1": 7, "2": 7, "3": 4, "4": 2}),
		// acknowledge: c03 c04 at 1, c07 c09 c16 at 2; resolve: c04 at 2, c09 at 3
		SLABreachesByTierAndClock: map[string]map[string]int{
			"1": {"acknowledge": 2}, "2": {"acknowledge": 3, "resolve": 1}, "3": {"resolve": 1}},
		// hours 1 2 2 3 | 4 5 6 | 8 10 12 20 | 30 48 | 800
		TimeToResolutionHistogram: hist(0, 4, 3, 4, 2, 0, 0, 0, 1),
		// the 14 resolved but c09 and c20, whose close targets broke
		ResolvedWithinCloseTarget: 12.0 / 20,
	}

	wantByCategory = []tierflow.KPIs{
		{Group: "", CasesOpened: 1, EscalatedCases: 1, EscalationRate: 1, EscalationsToTier: map[string]int{"2": 1},
			ResolvedCases: 1, TimeToResolutionP50: dur(12 * time.Hour), TimeToResolutionP90: dur(12 * time.Hour),
			ResolvedWithin30Days: 1, SLABreachesByTier: map[string]int{}, CSATDistribution: csat(nil),
			CompensationCents: map[string]int64{}, TopCategories: []tierflow.CategoryCount{},
			CasesByStartTier: tiers(map[string]int{"1": 1}), CasesByHighestTier: tiers(map[string]int{"2": 1}),
			SLABreachesByTierAndClock: map[string]map[string]int{}, TimeToResolutionHistogram: hist(0, 0, 0, 1), ResolvedWithinCloseTarget: 1},
		{Group: "account", CasesOpened: 2, EscalatedCases: 1, EscalationRate: 0.5, EscalationsToTier: map[string]int{"2": 1},
			ResolvedCases: 1, FirstTierResolutionRate: 1, TimeToResolutionP50: dur(8 * time.Hour), TimeToResolutionP90: dur(8 * time.Hour),
			ResolvedWithin30Days: 0.5, SLABreachesByTier: map[string]int{}, CSATAverage: ptr(5.0),
			CSATDistribution: csat(map[string]int{"5": 1}), SurveyResponseRate: 1,
			CompensationCents: map[string]int64{}, TopCategories: []tierflow.CategoryCount{{Category: "account", Cases: 1}},
			CasesByStartTier: tiers(map[string]int{"1": 2}), CasesByHighestTier: tiers(map[string]int{"1": 1, "2": 1}),
			SLABreachesByTierAndClock: map[string]map[string]int{}, TimeToResolutionHistogram: hist(0, 0, 0, 1), ResolvedWithinCloseTarget: 0.5},
		// c01 c02 c03 c04 c05 c19; hours 2 2 4 10 30: p50 4h, p90 at rank 3.6: 10 + 0.6*20 = 22h
		{Group: "billing", CasesOpened: 6, EscalatedCases: 2, EscalationRate: 2.0 / 6, EscalationsToTier: map[string]int{"2": 2, "3": 1},
			ResolvedCases: 5, FirstTierResolutionRate: 3.0 / 5, TimeToResolutionP50: dur(4 * time.Hour), TimeToResolutionP90: dur(22 * time.Hour),
			ResolvedWithin30Days: 5.0 / 6, SLABreachesByTier: map[string]int{"1": 2, "2": 1}, CSATAverage: ptr(11.0 / 3),
			CSATDistribution: csat(map[string]int{"2": 1, "4": 1, "5": 1}), SurveyResponseRate: 3.0 / 5, ReopenRate: 1.0 / 5,
			CompensationCents: map[string]int64{"EUR": 52500}, TopCategories: []tierflow.CategoryCount{{Category: "billing", Cases: 2}},
			CasesByStartTier: tiers(map[string]int{"1": 5, "3": 1}), CasesByHighestTier: tiers(map[string]int{"1": 3, "2": 1, "3": 2}),
			SLABreachesByTierAndClock: map[string]map[string]int{"1": {"acknowledge": 2}, "2": {"resolve": 1}},
			TimeToResolutionHistogram: hist(0, 2, 1, 1, 1), ResolvedWithinCloseTarget: 5.0 / 6},
		// c06 c07 c08 c09 c20; hours 1 20 48 800: p50 34h, p90 at rank 2.7: 48 + 0.7*752 = 574.4h
		{Group: "delivery", CasesOpened: 5, EscalatedCases: 3, EscalationRate: 3.0 / 5, EscalationsToTier: map[string]int{"2": 2, "3": 1, "4": 1},
			ResolvedCases: 4, FirstTierResolutionRate: 1.0 / 4, TimeToResolutionP50: dur(34 * time.Hour), TimeToResolutionP90: dur(574*time.Hour + 24*time.Minute),
			ResolvedWithin30Days: 3.0 / 5, SLABreachesByTier: map[string]int{"2": 2, "3": 1}, CSATAverage: ptr(13.0 / 4),
			CSATDistribution: csat(map[string]int{"1": 1, "3": 1, "4": 1, "5": 1}), SurveyResponseRate: 1,
			CompensationCents: map[string]int64{"EUR": 123000, "USD": 1500}, TopCategories: []tierflow.CategoryCount{{Category: "delivery", Cases: 3}},
			CasesByStartTier: tiers(map[string]int{"1": 3, "2": 1, "4": 1}), CasesByHighestTier: tiers(map[string]int{"1": 1, "2": 2, "4": 2}),
			SLABreachesByTierAndClock: map[string]map[string]int{"2": {"acknowledge": 2}, "3": {"resolve": 1}},
			// c09 and c20 broke their close targets
			TimeToResolutionHistogram: hist(0, 1, 0, 1, 1, 0, 0, 0, 1), ResolvedWithinCloseTarget: 2.0 / 5},
		// c10 c11 c12; hours 3 5 6: p50 5h, p90 at rank 1.8: 5 + 0.8 = 5.8h
		{Group: "login", CasesOpened: 3, EscalatedCases: 1, EscalationRate: 1.0 / 3, EscalationsToTier: map[string]int{"2": 1},
			ResolvedCases: 3, FirstTierResolutionRate: 1.0 / 3, TimeToResolutionP50: dur(5 * time.Hour), TimeToResolutionP90: dur(5*time.Hour + 48*time.Minute),
			ResolvedWithin30Days: 1, SLABreachesByTier: map[string]int{}, CSATAverage: ptr(3.5),
			CSATDistribution: csat(map[string]int{"3": 1, "4": 1}), SurveyResponseRate: 2.0 / 3, ReopenRate: 1.0 / 3,
			CompensationCents: map[string]int64{}, TopCategories: []tierflow.CategoryCount{{Category: "login", Cases: 1}},
			CasesByStartTier: tiers(map[string]int{"1": 2, "3": 1}), CasesByHighestTier: tiers(map[string]int{"1": 1, "2": 1, "3": 1}),
			SLABreachesByTierAndClock: map[string]map[string]int{}, TimeToResolutionHistogram: hist(0, 1, 2), ResolvedWithinCloseTarget: 1},
		{Group: "refund", CasesOpened: 2, EscalatedCases: 1, EscalationRate: 0.5, EscalationsToTier: map[string]int{"2": 1},
			SLABreachesByTier: map[string]int{}, CSATDistribution: csat(nil),
			CompensationCents: map[string]int64{}, TopCategories: []tierflow.CategoryCount{{Category: "refund", Cases: 1}},
			CasesByStartTier: tiers(map[string]int{"1": 2}), CasesByHighestTier: tiers(map[string]int{"1": 1, "2": 1}),
			SLABreachesByTierAndClock: map[string]map[string]int{}, TimeToResolutionHistogram: hist()},
		{Group: "warranty", CasesOpened: 1, EscalatedCases: 1, EscalationRate: 1, EscalationsToTier: map[string]int{"2": 1, "3": 1},
			SLABreachesByTier: map[string]int{"2": 1}, CSATDistribution: csat(nil),
			CompensationCents: map[string]int64{}, TopCategories: []tierflow.CategoryCount{{Category: "warranty", Cases: 1}},
			CasesByStartTier: tiers(map[string]int{"1": 1}), CasesByHighestTier: tiers(map[string]int{"3": 1}),
			SLABreachesByTierAndClock: map[string]map[string]int{"2": {"acknowledge": 1}}, TimeToResolutionHistogram: hist()},
	}
)

func TestKPIsOnAKnownDataSet(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	seedKPICases(t, s)

	t.Run("total", func(t *testing.T) {
		report, err := s.KPIs(ctx, tierflow.KPIQuery{From: kpiFrom, To: kpiTo})
		require.NoError(t, err)
		assert.Equal(t, kpiFrom, report.From)
		assert.Equal(t, kpiTo, report.To)
		assert.Equal(t, wantTotal, report.Total)
		assert.Empty(t, report.Groups)
	})

	t.Run("by category", func(t *testing.T) {
		report, err := s.KPIs(ctx, tierflow.KPIQuery{From: kpiFrom, To: kpiTo, GroupBy: "category"})
		require.NoError(t, err)
		assert.Equal(t, "category", report.GroupBy)
		assert.Equal(t, wantTotal, report.Total, "grouping does not change the total")
		require.Len(t, report.Groups, len(wantByCategory))
		for i, want := range wantByCategory {
			assert.Equal(t, want, report.Groups[i], "group %q", want.Group)
		}
	})

	opened := func(groupBy string) map[string]int {
		report, err := s.KPIs(ctx, tierflow.KPIQuery{From: kpiFrom, To: kpiTo, GroupBy: groupBy})
		require.NoError(t, err)
		out := map[string]int{}
		for _, g := range report.Groups {
			out[g.Group] = g.CasesOpened
		}
		return out
	}
	t.Run("by current tier", func(t *testing.T) {
		assert.Equal(t, map[string]int{"1": 7, "2": 7, "3": 4, "4": 2}, opened("tier"))
	})
	t.Run("by priority", func(t *testing.T) {
		assert.Equal(t, map[string]int{"urgent": 2, "high": 4, "normal": 12, "low": 2}, opened("priority"))
	})
	t.Run("by department", func(t *testing.T) {
		assert.Equal(t, map[string]int{"billing": 9, "shipping": 5, "technical": 6}, opened("department"))
	})

	t.Run("an empty window", func(t *testing.T) {
		report, err := s.KPIs(ctx, tierflow.KPIQuery{From: kpiTo.Add(time.Hour), To: kpiTo.Add(2 * time.Hour), GroupBy: "tier"})
		require.NoError(t, err)
		assert.Equal(t, *newKPIs(""), report.Total)
		assert.Empty(t, report.Groups)
	})

	t.Run("invalid queries", func(t *testing.T) {
		for _, q := range []tierflow.KPIQuery{
			{From: kpiFrom, To: kpiTo, GroupBy: "customer"},
			{From: kpiTo, To: kpiFrom},
			{To: kpiTo},
		} {
			_, err := s.KPIs(ctx, q)
			requireCode(t, err, tierflow.CodeInvalid)
		}
	})
}
