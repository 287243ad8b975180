package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tierflow/tierflow"
)

// decideArgs is what the decide command's flags fill.
type decideArgs struct {
	d            tierflow.Decision
	mode, amount string // checked and converted before they go into d
}

// decisionFlag is the CLI's flag for one JSON field of a decision. Its name is a
// contract (scripts use it); the actions that take it come from tierflow.ActionSpecs.
type decisionFlag struct {
	name  string // without dashes
	value string // how the help shows its value; "" for free text
	usage string
	bind  func(*decideArgs) *string
}

// decisionFlags has a flag for every JSON field an action of tierflow.ActionSpecs
// names (TestDecideHelpComesFromTheActionTable fails on a field without one).
var decisionFlags = map[string]decisionFlag{
	"text":         {"text", "", "internal note", func(a *decideArgs) *string { return &a.d.Text }},
	"message":      {"message", "", "message to the customer", func(a *decideArgs) *string { return &a.d.Message }},
	"mode":         {"mode", "functional|hierarchical", "escalation mode", func(a *decideArgs) *string { return &a.mode }},
	"department":   {"department", "", "department; required for a functional escalation", func(a *decideArgs) *string { return &a.d.Department }},
	"reason":       {"reason", "", "why", func(a *decideArgs) *string { return &a.d.Reason }},
	"summary":      {"summary", "", "hand-off summary: what was tried, what is proposed", func(a *decideArgs) *string { return &a.d.Summary }},
	"assignee":     {"assignee", "", "new owner", func(a *decideArgs) *string { return &a.d.Assignee }},
	"amount_cents": {"amount", "12.50", "compensation amount as a decimal in --currency", func(a *decideArgs) *string { return &a.amount }},
	"currency":     {"currency", "EUR", "ISO currency of --amount", func(a *decideArgs) *string { return &a.d.Currency }},
	"description":  {"description", "", "what the compensation is for", func(a *decideArgs) *string { return &a.d.Description }},
	"approval_id":  {"approval-id", "", "the pending approval", func(a *decideArgs) *string { return &a.d.ApprovalID }},
	"note":         {"note", "", "note on the approval", func(a *decideArgs) *string { return &a.d.Note }},
	"resolution":   {"resolution", "", "the resolution", func(a *decideArgs) *string { return &a.d.Resolution }},
	"explanation":  {"explanation", "", "explanation for the customer; required at tier 3+", func(a *decideArgs) *string { return &a.d.Explanation }},
	"policy":       {"policy", "name[@version]", "the loaded policy to move the case to", func(a *decideArgs) *string { return &a.d.Policy }},
}

// flagOf returns how the help writes field's flag: "--amount 12.50", "--text".
func flagOf(field string) string {
	f, ok := decisionFlags[field]
	if !ok {
		return "--" + field + "(no flag)"
	}
	if f.value == "" {
		return "--" + f.name
	}
	return "--" + f.name + " " + f.value
}

// decideSynopsis is the decide command's long help: every action of
// tierflow.ActionSpecs with its required flags, its optional ones in brackets, and
// its line.
func decideSynopsis() string {
	var b strings.Builder
	b.WriteString("Actions, their flags ([optional]) and what they do:")
	for _, s := range tierflow.ActionSpecs {
		line := []string{string(s.Action)}
		for _, f := range s.Required {
			line = append(line, flagOf(f))
		}
		for _, f := range s.Optional {
			line = append(line, "["+flagOf(f)+"]")
		}
		fmt.Fprintf(&b, "\n  %s\n      %s", strings.Join(line, " "), s.Doc)
	}
	return b.String()
}

// actionsTaking lists the actions whose declaration names field.
func actionsTaking(field string) []string {
	var out []string
	for _, s := range tierflow.ActionSpecs {
		if slices.Contains(s.Required, field) || slices.Contains(s.Optional, field) {
			out = append(out, string(s.Action))
		}
	}
	return out
}

// decideFlagSet returns the decide command's decision flags, filling a.
func decideFlagSet(e *env, a *decideArgs) *pflag.FlagSet {
	fs := pflag.NewFlagSet("tierflow decide", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	for field, f := range decisionFlags {
		usage := f.usage
		if actions := actionsTaking(field); len(actions) > 0 {
			usage += " (" + strings.Join(actions, ", ") + ")"
		}
		fs.StringVar(f.bind(a), f.name, "", usage)
	}
	fs.StringVar(&a.d.DecisionID, "decision-id", "", "your id of this decision, so that repeating the command applies it once (default random)")
	return fs
}

func newDecideCommand(e *env) *cobra.Command {
	var a decideArgs
	var asJSON bool
	c := &cobra.Command{
		Use:               "decide <case-id> <action>",
		Short:             "take a decision on a case (acknowledge, escalate, resolve...)",
		Long:              decideSynopsis(),
		Annotations:       map[string]string{preformattedLong: "true"},
		Example:           "  tierflow decide zendesk-48213 escalate --mode functional --department billing --reason \"needs a refund\" --summary \"charge settled\"",
		Args:              positional("<case-id>", "<action>"),
		ValidArgsFunction: completeArgs(nil, actionNames()),
		RunE: func(c *cobra.Command, args []string) error {
			return runDecide(c, e, &a, asJSON, args[0], args[1])
		},
	}
	c.Flags().AddFlagSet(decideFlagSet(e, &a))
	c.Flags().BoolVar(&asJSON, "json", false, "print the updated case as JSON")
	completeWords(c, "mode", []string{string(tierflow.EscalationFunctional), string(tierflow.EscalationHierarchical)})
	return c
}

func runDecide(c *cobra.Command, e *env, a *decideArgs, asJSON bool, caseID, action string) error {
	d, mode, amount := &a.d, &a.mode, &a.amount
	d.Action = tierflow.Action(action)
	if !d.Action.Valid() {
		return usageErrorf(c, "unknown action %q; one of %s", action, joinActions())
	}
	if *mode != "" {
		d.Mode = tierflow.EscalationMode(*mode)
		if d.Mode != tierflow.EscalationFunctional && d.Mode != tierflow.EscalationHierarchical {
			return usageErrorf(c, "--mode must be functional or hierarchical, not %q", *mode)
		}
	}
	if *amount != "" {
		var err error
		d.AmountCents, err = parseAmount(*amount, d.Currency)
		if err != nil {
			return usageErrorf(c, "--amount: %v", err)
		}
	}
	d.Currency = strings.ToUpper(d.Currency)

	view, err := e.client().Decide(c.Context(), caseID, *d)
	if err != nil {
		return aboutCase(caseID, err)
	}
	if asJSON {
		return printJSON(e.stdout, view)
	}
	fmt.Fprintf(e.stdout, "%s %s: status %s, tier %d %s, department %s, owner %s\n",
		d.Action, view.ID, view.Status, view.Tier, view.Tier, orDash(view.Department), owner(view))
	if a := view.PendingApproval; a != nil {
		fmt.Fprintf(e.stdout, "awaiting approval %s: %s, needs tier %d, expires %s\n",
			a.ID, formatAmount(a.AmountCents, a.Currency), a.RequiredTier, whenAt(&a.ExpiresAt, e.now()))
	}
	return nil
}

func joinActions() string { return joinNames(actionNames()) }

func owner(v tierflow.CaseView) string {
	if v.Assignee == nil || *v.Assignee == "" {
		return "unassigned"
	}
	return *v.Assignee
}
