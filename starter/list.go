package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tierflow/tierflow"
)

const listSynopsis = `list [--status S] [--tier N] [--priority P] [--department D] [--assignee A] [--breached] [--source S] [--limit N] [--cursor C | --all] [--json]`

// optionalBool is a boolean flag that can also be absent: --breached,
// --breached=false, or nothing (no filter).
type optionalBool struct {
	set, value bool
}

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

func runList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "list", listSynopsis)
	var f tierflow.CaseFilter
	var status, priority string
	var tier int
	var breached optionalBool
	fs.StringVar(&status, "status", "", "open, in_progress, awaiting_customer, awaiting_approval, resolved or closed")
	fs.IntVar(&tier, "tier", 0, "tier 1 to 4")
	fs.StringVar(&priority, "priority", "", "low, normal, high or urgent")
	fs.StringVar(&f.Department, "department", "", "department")
	fs.StringVar(&f.Assignee, "assignee", "", "owner's id")
	fs.Var(&breached, "breached", "only cases with an SLA breach (--breached=false: without)")
	fs.StringVar(&f.Source, "source", "", "CRM source")
	fs.IntVar(&f.Limit, "limit", 50, "cases per page (max 200)")
	fs.StringVar(&f.Cursor, "cursor", "", "continue from this cursor")
	all := fs.Bool("all", false, "follow the cursors and list every matching case")
	asJSON := fs.Bool("json", false, "print the cases as JSON")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, rest); err != nil {
		return err
	}
	f.Status, f.Priority, f.Tier = tierflow.Status(status), tierflow.Priority(priority), tierflow.Tier(tier)
	switch {
	case status != "" && !f.Status.Valid():
		return usageErrorf(fs, "unknown --status %q", status)
	case priority != "" && !f.Priority.Valid():
		return usageErrorf(fs, "unknown --priority %q", priority)
	case tier != 0 && !f.Tier.Valid():
		return usageErrorf(fs, "--tier must be 1 to 4")
	case f.Limit < 1 || f.Limit > 200:
		return usageErrorf(fs, "--limit must be 1 to 200")
	}
	if breached.set {
		f.Breached = &breached.value
	}

	c := e.client()
	var cases []tierflow.CaseView
	next := ""
	if *all {
		for v, err := range c.Cases(ctx, f) {
			if err != nil {
				return err
			}
			cases = append(cases, v)
		}
	} else {
		page, err := c.ListCases(ctx, f)
		if err != nil {
			return err
		}
		cases, next = page.Cases, page.NextCursor
	}
	if *asJSON {
		return printJSON(e.stdout, tierflow.CasePage{Cases: cases, NextCursor: next})
	}
	printCaseTable(e.stdout, cases, e.now())
	if next != "" {
		fmt.Fprintf(e.stderr, "more cases: add --cursor %s, or --all\n", next)
	}
	return nil
}

func printCaseTable(w io.Writer, cases []tierflow.CaseView, now time.Time) {
	if len(cases) == 0 {
		fmt.Fprintln(w, "no cases")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tTIER\tPRIORITY\tDEPARTMENT\tOWNER\tNEXT DEADLINE\tBREACHES\tSUBJECT")
	for _, v := range cases {
		breaches := strconv.Itoa(len(v.Breaches))
		if v.CloseTargetBreached {
			breaches += "+30d"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Status, v.Tier, v.Priority,
			orDash(v.Department), owner(v), nextDeadline(v.Deadlines, now), breaches, oneLine(v.Subject, 50))
	}
	_ = tw.Flush()
}

// nextDeadline names the earliest running deadline: "acknowledge in 1h20m".
func nextDeadline(d tierflow.Deadlines, now time.Time) string {
	candidates := []struct {
		name string
		at   *time.Time
	}{
		{"acknowledge", d.AcknowledgeBy}, {"resolve", d.ResolveBy}, {"approval", d.ApprovalBy},
		{"update", d.NextCustomerUpdateBy}, {"close target", d.CloseTargetAt},
	}
	best := ""
	var bestAt time.Time
	for _, c := range candidates {
		if c.at != nil && !c.at.IsZero() && (best == "" || c.at.Before(bestAt)) {
			best, bestAt = c.name, *c.at
		}
	}
	if best == "" {
		return "-"
	}
	return best + " " + relative(bestAt, now)
}
