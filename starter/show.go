package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow"
)

func newShowCommand(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "show <case-id>",
		Short:             "show a case: status, deadlines, breaches, approval, then its timeline",
		Args:              positional("<case-id>"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(c *cobra.Command, args []string) error {
			return runShow(c.Context(), e, args[0], asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the case and its events as JSON")
	return c
}

func runShow(ctx context.Context, e *env, caseID string, asJSON bool) error {
	c := e.client()
	view, err := c.GetCase(ctx, caseID)
	if err != nil {
		return aboutCase(caseID, err)
	}
	events, err := c.CaseEvents(ctx, caseID)
	if err != nil {
		return aboutCase(caseID, err)
	}
	if asJSON {
		return printJSON(e.stdout, struct {
			Case   tierflow.CaseView    `json:"case"`
			Events []tierflow.CaseEvent `json:"events"`
		}{view, events})
	}
	now := e.now()
	printCase(e.stdout, view, now)
	printTimeline(e.stdout, events)
	return nil
}

// printCase writes the readable view of a case: facts, deadlines with their
// explanations, breaches, approval, compensation and survey.
func printCase(w io.Writer, v tierflow.CaseView, now time.Time) {
	fmt.Fprintf(w, "Case %s: %s\n", v.ID, v.Subject)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, val string) { fmt.Fprintf(tw, "  %s\t%s\n", k, val) }
	row("status", string(v.Status))
	tier := fmt.Sprintf("%d (%s)", v.Tier, v.Tier)
	if v.StartTier != 0 && v.StartTier != v.Tier {
		tier += fmt.Sprintf(", started at %d", v.StartTier)
	}
	if v.Escalations > 0 {
		tier += ", " + plural(v.Escalations, "escalation")
	}
	row("tier", tier)
	row("department", orDash(v.Department))
	row("owner", owner(v))
	row("priority", string(v.Priority))
	row("category", orDash(v.Category))
	row("trigger", orDash(string(v.Trigger)))
	row("customer", customerLine(v.Customer))
	row("policy", strings.TrimSpace(v.Policy.Name+" "+v.Policy.Version))
	row("opened", whenAt(&v.OpenedAt, now))
	if v.ResolvedAt != nil {
		row("resolved", whenAt(v.ResolvedAt, now))
	}
	if v.ClosedAt != nil {
		row("closed", whenAt(v.ClosedAt, now))
	}
	if v.Reopens > 0 {
		row("reopened", plural(v.Reopens, "time"))
	}
	if v.Resolution != "" {
		row("resolution", oneLine(v.Resolution, 100))
	}
	if v.LastDecision != "" {
		row("last decision", v.LastDecision)
	}
	if v.Workflow.ID != "" {
		row("workflow", strings.TrimSpace(v.Workflow.ID+" "+v.Workflow.RunID))
	}
	_ = tw.Flush()

	printDeadlines(w, v, now)
	if len(v.Breaches) > 0 || v.CloseTargetBreached {
		fmt.Fprintln(w, "\nBreaches")
		for _, b := range v.Breaches {
			fmt.Fprintf(w, "  %s deadline missed at tier %d, %s\n", b.Clock, b.Tier, whenAt(&b.At, now))
		}
		if v.CloseTargetBreached {
			fmt.Fprintln(w, "  30-day close target missed")
		}
	}
	if a := v.PendingApproval; a != nil {
		fmt.Fprintln(w, "\nPending approval")
		fmt.Fprintf(w, "  %s: %s for %q, requested by %s, needs tier %d (%s), expires %s\n",
			a.ID, formatAmount(a.AmountCents, a.Currency), a.Description, a.RequestedBy,
			a.RequiredTier, a.RequiredTier, whenAt(&a.ExpiresAt, now))
	}
	if len(v.Compensation) > 0 {
		fmt.Fprintln(w, "\nCompensation")
		for _, c := range v.Compensation {
			by := "proposed by " + c.ProposedBy
			if c.ApprovedBy != "" {
				by += ", approved by " + c.ApprovedBy
			}
			fmt.Fprintf(w, "  %s  %s  %s  %q, %s\n", c.ID, formatAmount(c.AmountCents, c.Currency), c.Status, c.Description, by)
		}
	}
	if s := v.Survey; s != nil {
		fmt.Fprintln(w, "\nSurvey")
		fmt.Fprintf(w, "  %s\n", surveyLine(s, now))
	}
}

func customerLine(c tierflow.Customer) string {
	parts := []string{c.ID, c.Name}
	if c.Email != "" {
		parts = append(parts, "<"+c.Email+">")
	}
	if c.VIP {
		parts = append(parts, "(VIP)")
	}
	return orDash(strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " "))
}

// deadlineRow is one running clock of the case.
type deadlineRow struct {
	name  string
	clock tierflow.Clock
	at    *time.Time
}

func printDeadlines(w io.Writer, v tierflow.CaseView, now time.Time) {
	d := v.Deadlines
	rows := []deadlineRow{
		{"acknowledge by", tierflow.ClockAcknowledge, d.AcknowledgeBy},
		{"resolve by", tierflow.ClockResolve, d.ResolveBy},
		{"next customer update by", tierflow.ClockCustomerUpdate, d.NextCustomerUpdateBy},
		{"approval by", tierflow.ClockApproval, d.ApprovalBy},
		{"30-day close target", tierflow.ClockCloseTarget, d.CloseTargetAt},
	}
	explained := map[tierflow.Clock]tierflow.Deadline{}
	for _, x := range d.Explanations {
		explained[x.Clock] = x
	}
	// Clocks that only have an explanation (waiting on the customer, survey) still show.
	for _, x := range d.Explanations {
		if !slices.ContainsFunc(rows, func(r deadlineRow) bool { return r.clock == x.Clock }) {
			rows = append(rows, deadlineRow{strings.ReplaceAll(string(x.Clock), "_", " "), x.Clock, &x.At})
		}
	}
	fmt.Fprintln(w, "\nDeadlines")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		if r.at == nil || r.at.IsZero() {
			if r.clock != tierflow.ClockApproval {
				fmt.Fprintf(tw, "  %s\t-\n", r.name)
			}
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.name, formatTime(*r.at), relative(*r.at, now))
		if x, ok := explained[r.clock]; ok && x.Explanation != "" {
			fmt.Fprintf(tw, "  \t  %s\n", x.Explanation)
		}
	}
	_ = tw.Flush()
}

func surveyLine(s *tierflow.SurveyState, now time.Time) string {
	parts := []string{string(s.Status)}
	add := func(label string, t *time.Time) {
		if t != nil {
			parts = append(parts, label+" "+whenAt(t, now))
		}
	}
	add("send at", s.SendAt)
	add("sent", s.SentAt)
	add("expires", s.ExpiresAt)
	add("answered", s.AnsweredAt)
	if s.Score > 0 {
		parts = append(parts, "score "+strconv.Itoa(s.Score)+"/5")
	}
	if s.Resolved != nil {
		parts = append(parts, "resolved: "+map[bool]string{true: "yes", false: "no"}[*s.Resolved])
	}
	if s.Comment != "" {
		parts = append(parts, strconv.Quote(oneLine(s.Comment, 80)))
	}
	return strings.Join(parts, ", ")
}

// printTimeline writes the audit events as a table, oldest first.
func printTimeline(w io.Writer, events []tierflow.CaseEvent) {
	fmt.Fprintf(w, "\nTimeline (%d events)\n", len(events))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tACTOR\tEVENT\tTIER\tDETAILS")
	for _, ev := range events {
		actor := ev.Actor.ID
		if actor == "" {
			actor = ev.Actor.Name
		}
		tier := "-"
		if ev.Tier != 0 {
			tier = strconv.Itoa(int(ev.Tier))
		}
		if ev.FromTier != 0 && ev.FromTier != ev.Tier {
			tier = fmt.Sprintf("%d->%d", ev.FromTier, ev.Tier)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", formatTime(ev.At), orDash(actor), ev.Type, tier, eventDetails(ev))
	}
	_ = tw.Flush()
}

// eventDetails joins what an event says: department, reason, summary, what the
// customer was told, and its details in key order.
func eventDetails(ev tierflow.CaseEvent) string {
	var parts []string
	if ev.Department != "" {
		parts = append(parts, "department "+ev.Department)
	}
	if ev.Reason != "" {
		parts = append(parts, ev.Reason)
	}
	if ev.Summary != "" {
		parts = append(parts, "summary: "+ev.Summary)
	}
	if ev.CustomerMessage != "" {
		parts = append(parts, "customer told: "+strconv.Quote(ev.CustomerMessage))
	}
	for _, k := range slices.Sorted(maps.Keys(ev.Details)) {
		if k != "decision_id" {
			parts = append(parts, k+"="+ev.Details[k])
		}
	}
	return orDash(oneLine(strings.Join(parts, "; "), 140))
}
