package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow"
)

var kpiGroupings = []string{"category", "department", "tier", "priority"}

// kpisOptions are the kpis command's flags.
type kpisOptions struct {
	from, to, groupBy string
	asJSON            bool
}

func newKPIsCommand(e *env) *cobra.Command {
	var o kpisOptions
	c := &cobra.Command{
		Use:     "kpis",
		Short:   "print the KPIs of cases opened in a period",
		Example: "  tierflow kpis --from 2026-11-01 --to 2026-12-01 --group-by tier",
		Args:    positional(),
		RunE:    func(c *cobra.Command, _ []string) error { return runKPIs(c, e, &o) },
	}
	c.Flags().StringVar(&o.from, "from", "", "first day or instant of the period (default: 30 days before --to)")
	c.Flags().StringVar(&o.to, "to", "", "end of the period, exclusive (default now)")
	c.Flags().StringVar(&o.groupBy, "group-by", "", "category, department, tier or priority")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	completeWords(c, "group-by", kpiGroupings)
	return c
}

func runKPIs(c *cobra.Command, e *env, o *kpisOptions) error {
	if o.groupBy != "" && !slices.Contains(kpiGroupings, o.groupBy) {
		return usageErrorf(c, "--group-by must be category, department, tier or priority")
	}
	from, to, err := period(c, o.from, o.to, e.now())
	if err != nil {
		return err
	}
	report, err := e.client().KPIs(c.Context(), from, to, o.groupBy)
	if err != nil {
		return err
	}
	if o.asJSON {
		return printJSON(e.stdout, report)
	}
	printKPIs(e.stdout, report)
	return nil
}

// period reads --from and --to: --to defaults to now, --from to 30 days before
// --to, and --from must come first.
func period(c *cobra.Command, fromFlag, toFlag string, now time.Time) (from, to time.Time, err error) {
	to = now.UTC().Truncate(time.Second)
	if toFlag != "" {
		if to, err = parseDay(toFlag); err != nil {
			return from, to, usageErrorf(c, "--to: %v", err)
		}
	}
	from = to.AddDate(0, 0, -30)
	if fromFlag != "" {
		if from, err = parseDay(fromFlag); err != nil {
			return from, to, usageErrorf(c, "--from: %v", err)
		}
	}
	if !from.Before(to) {
		return from, to, usageErrorf(c, "--from must be before --to")
	}
	return from, to, nil
}

// parseDay reads "2026-11-01" (midnight UTC) or an RFC 3339 instant.
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("%q is neither a date like 2026-11-01 nor an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

func printKPIs(w io.Writer, r tierflow.KPIReport) {
	fmt.Fprintf(w, "KPIs of cases opened from %s to %s\n\n", formatTime(r.From), formatTime(r.To))
	printKPIBlock(w, r.Total)
	if len(r.Groups) == 0 {
		return
	}
	fmt.Fprintf(w, "\nBy %s\n", r.GroupBy)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.ToUpper(r.GroupBy)+"\tOPENED\tESCALATED\tFIRST-TIER\tRESOLVED\tP50\tP90\tCSAT\tREOPEN\t")
	for _, g := range r.Groups {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", orDash(g.Group), g.CasesOpened,
			percent(g.EscalationRate), percent(g.FirstTierResolutionRate), g.ResolvedCases,
			optDuration(g.TimeToResolutionP50), optDuration(g.TimeToResolutionP90), optCSAT(g.CSATAverage), percent(g.ReopenRate))
	}
	_ = tw.Flush()
}

func printKPIBlock(w io.Writer, k tierflow.KPIs) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(name, value string) { fmt.Fprintf(tw, "  %s\t%s\n", name, value) }
	row("cases opened", fmt.Sprint(k.CasesOpened))
	row("escalated", fmt.Sprintf("%d (%s)", k.EscalatedCases, percent(k.EscalationRate)))
	row("escalations to tier", counts(k.EscalationsToTier))
	row("first-tier resolution", percent(k.FirstTierResolutionRate))
	row("resolved", fmt.Sprint(k.ResolvedCases))
	row("time to resolution", "p50 "+optDuration(k.TimeToResolutionP50)+", p90 "+optDuration(k.TimeToResolutionP90))
	row("resolved within 30 days", percent(k.ResolvedWithin30Days))
	row("SLA breaches by tier", counts(k.SLABreachesByTier))
	row("CSAT", optCSAT(k.CSATAverage)+" (distribution "+counts(k.CSATDistribution)+")")
	row("survey response rate", percent(k.SurveyResponseRate))
	row("reopen rate", percent(k.ReopenRate))
	var paid []string
	for _, cur := range slices.Sorted(maps.Keys(k.CompensationCents)) {
		paid = append(paid, formatAmount(k.CompensationCents[cur], cur))
	}
	row("compensation", orDash(strings.Join(paid, ", ")))
	var top []string
	for _, c := range k.TopCategories {
		top = append(top, fmt.Sprintf("%s (%d)", c.Category, c.Cases))
	}
	row("top categories", orDash(strings.Join(top, ", ")))
	_ = tw.Flush()
}

// counts prints a map of counts in key order: "1: 4, 2: 7".
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return orDash(strings.Join(parts, ", "))
}

func optDuration(d *tierflow.Duration) string {
	if d == nil {
		return "-"
	}
	return roughDuration(d.Duration)
}

func optCSAT(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f/5", *f)
}
