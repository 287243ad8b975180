package simulate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable renders a report for a terminal: the counters side by side with
// their difference, then each changed case with its changes and explanations.
// The CLI's "policy simulate" prints it.
func WriteTable(w io.Writer, rep Report) error {
	if rep.Window.From.IsZero() && rep.Window.To.IsZero() {
		// A verdict over chosen cases (a migration's dry run), not a window.
		fmt.Fprintf(w, "Simulation of policy %s on the matched cases", rep.Policy)
	} else {
		fmt.Fprintf(w, "Simulation of policy %s on cases opened %s to %s", rep.Policy,
			rep.Window.From.UTC().Format("2006-01-02 15:04"), rep.Window.To.UTC().Format("2006-01-02 15:04"))
	}
	if rep.Window.Source != "" {
		fmt.Fprintf(w, " (source %s)", rep.Window.Source)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "counter\tactual\tsimulated\tchange\t")
	row := func(name string, a, s int) { fmt.Fprintf(tw, "%s\t%d\t%d\t%+d\t\n", name, a, s, s-a) }
	a, s := rep.Actual, rep.Simulated
	row("cases", a.Cases, s.Cases)
	for _, k := range breachKeys(a, s) {
		row("breaches "+k, a.Breaches[k], s.Breaches[k])
	}
	row("breaches total", a.BreachesTotal, s.BreachesTotal)
	row("automatic escalations", a.AutomaticEscalations, s.AutomaticEscalations)
	row("warnings", a.Warnings, s.Warnings)
	row("staff emails", a.StaffEmails, s.StaffEmails)
	row("customer emails", a.CustomerEmails, s.CustomerEmails)
	row("past close target", a.PastCloseTarget, s.PastCloseTarget)
	row("auto-resolved", a.AutoResolved, s.AutoResolved)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d case(s) would change:\n", len(rep.ChangedCases))
	for _, c := range rep.ChangedCases {
		var parts []string
		for _, ch := range c.Changes {
			parts = append(parts, fmt.Sprintf("%s %d -> %d", ch.What, ch.Actual, ch.Simulated))
		}
		fmt.Fprintf(w, "- %s (%s): %s\n", c.CaseID, c.ExternalID, strings.Join(parts, ", "))
		for _, e := range c.Explanations {
			fmt.Fprintf(w, "    %s\n", e)
		}
	}
	if rep.Skipped > 0 {
		fmt.Fprintf(w, "%d case(s) skipped: their record does not start with the opening.\n", rep.Skipped)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WritePlan renders a plan: one line per changed setting, or that nothing changes.
func WritePlan(w io.Writer, changes []PlanChange) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "No changes: the candidate's clocks equal the current policy's.")
		return err
	}
	for _, c := range changes {
		if _, err := fmt.Fprintf(w, "~ %s: %s -> %s\n", c.Setting, c.Current, c.Candidate); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "Plan: %d setting(s) change.\n", len(changes))
	return err
}
