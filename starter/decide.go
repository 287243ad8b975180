package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

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

// decideSynopsis is the decide command's help: every action of tierflow.ActionSpecs
// with its required flags, its optional ones in brackets, and its line.
func decideSynopsis() string {
	var b strings.Builder
	b.WriteString("decide <case-id> <action> [flags]\n\nActions, their flags ([optional]) and what they do:")
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

// decideFlagSet returns the decide command's flags, filling a.
func decideFlagSet(e *env, a *decideArgs) *flag.FlagSet {
	fs := newFlagSet(e, "decide", decideSynopsis())
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

func runDecide(ctx context.Context, e *env, args []string) error {
	var a decideArgs
	fs := decideFlagSet(e, &a)
	d, mode, amount := &a.d, &a.mode, &a.amount
	asJSON := fs.Bool("json", false, "print the updated case as JSON")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, rest, "<case-id>", "<action>"); err != nil {
		return err
	}
	caseID := rest[0]
	d.Action = tierflow.Action(rest[1])
	if !d.Action.Valid() {
		return usageErrorf(fs, "unknown action %q; one of %s", rest[1], joinActions())
	}
	if *mode != "" {
		d.Mode = tierflow.EscalationMode(*mode)
		if d.Mode != tierflow.EscalationFunctional && d.Mode != tierflow.EscalationHierarchical {
			return usageErrorf(fs, "--mode must be functional or hierarchical, not %q", *mode)
		}
	}
	if *amount != "" {
		d.AmountCents, err = parseAmount(*amount, d.Currency)
		if err != nil {
			return usageErrorf(fs, "--amount: %v", err)
		}
	}
	d.Currency = strings.ToUpper(d.Currency)

	view, err := e.client().Decide(ctx, caseID, *d)
	if err != nil {
		return aboutCase(caseID, err)
	}
	if *asJSON {
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

func joinActions() string {
	names := make([]string, len(tierflow.Actions))
	for i, a := range tierflow.Actions {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

func owner(v tierflow.CaseView) string {
	if v.Assignee == nil || *v.Assignee == "" {
		return "unassigned"
	}
	return *v.Assignee
}
