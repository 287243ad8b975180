package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow"
)

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

// Type names the flag's value in the help; "bool" shows none, as for a plain
// boolean flag.
func (b *optionalBool) Type() string { return "bool" }

// listOptions are the list command's flags.
type listOptions struct {
	filter           tierflow.CaseFilter
	status, priority string
	tier             int
	breached         optionalBool
	all, asJSON      bool
}

func newListCommand(e *env) *cobra.Command {
	var o listOptions
	c := &cobra.Command{
		Use:   "list",
		Short: "list cases as a table, with filters",
		Long: `List the cases matching the filters, a page at a time (--cursor continues, --all
follows every cursor), with each case's next running deadline.`,
		Example: `  tierflow list --tier 3 --breached
  tierflow list --status awaiting_approval --all --json`,
		Args: positional(),
		RunE: func(c *cobra.Command, _ []string) error { return runList(c, e, &o) },
	}
	fs, f := c.Flags(), &o.filter
	fs.StringVar(&o.status, "status", "", "open, in_progress, awaiting_customer, awaiting_approval, resolved or closed")
	fs.IntVar(&o.tier, "tier", 0, "tier 1 to 4")
	fs.StringVar(&o.priority, "priority", "", "low, normal, high or urgent")
	fs.StringVar(&f.Department, "department", "", "department")
	fs.StringVar(&f.Assignee, "assignee", "", "owner's id")
	fs.Var(&o.breached, "breached", "only cases with an SLA breach (--breached=false: without)")
	fs.Lookup("breached").NoOptDefVal = "true"
	fs.StringVar(&f.Source, "source", "", "CRM source")
	fs.IntVar(&f.Limit, "limit", 50, "cases per page (max 200)")
	fs.StringVar(&f.Cursor, "cursor", "", "continue from this cursor")
	fs.BoolVar(&o.all, "all", false, "follow the cursors and list every matching case")
	fs.BoolVar(&o.asJSON, "json", false, "print the cases as JSON")
	completeWords(c, "status", statusNames())
	completeWords(c, "priority", priorityNames())
	completeWords(c, "tier", []string{"1", "2", "3", "4"})
	return c
}

func runList(c *cobra.Command, e *env, o *listOptions) error {
	f := o.filter
	f.Status, f.Priority, f.Tier = tierflow.Status(o.status), tierflow.Priority(o.priority), tierflow.Tier(o.tier)
	switch {
	case o.status != "" && !f.Status.Valid():
		return usageErrorf(c, "unknown --status %q", o.status)
	case o.priority != "" && !f.Priority.Valid():
		return usageErrorf(c, "unknown --priority %q", o.priority)
	case o.tier != 0 && !f.Tier.Valid():
		return usageErrorf(c, "--tier must be 1 to 4")
	case f.Limit < 1 || f.Limit > 200:
		return usageErrorf(c, "--limit must be 1 to 200")
	}
	if o.breached.set {
		f.Breached = &o.breached.value
	}

	ctx, api := c.Context(), e.client()
	var cases []tierflow.CaseView
	next := ""
	if o.all {
		for v, err := range api.Cases(ctx, f) {
			if err != nil {
				return err
			}
			cases = append(cases, v)
		}
	} else {
		page, err := api.ListCases(ctx, f)
		if err != nil {
			return err
		}
		cases, next = page.Cases, page.NextCursor
	}
	if o.asJSON {
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
