package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tierflow/tierflow"
)

const decideSynopsis = `decide <case-id> <action> [flags]

Actions and their flags:
  acknowledge
  note                  --text
  update_customer       --message
  request_info          --message
  escalate              --mode functional|hierarchical [--department] --reason --summary
  transfer              --department --summary
  reassign              --assignee
  propose_compensation  --amount 12.50 --currency EUR --description
  approve, reject       --approval-id [--note]
  resolve               --resolution [--explanation (required at tier 3+)]
  reopen, close         --reason`

func runDecide(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "decide", decideSynopsis)
	var d tierflow.Decision
	var mode, amount string
	fs.StringVar(&d.Reason, "reason", "", "why (escalate, reopen, close)")
	fs.StringVar(&d.Summary, "summary", "", "hand-off summary: what was tried, what is proposed (escalate, transfer)")
	fs.StringVar(&mode, "mode", "", "escalation mode: functional or hierarchical")
	fs.StringVar(&d.Department, "department", "", "department (escalate functional, transfer)")
	fs.StringVar(&amount, "amount", "", "compensation amount as a decimal, e.g. 12.50")
	fs.StringVar(&d.Currency, "currency", "", "ISO currency of --amount, e.g. EUR")
	fs.StringVar(&d.Description, "description", "", "what the compensation is for")
	fs.StringVar(&d.ApprovalID, "approval-id", "", "the pending approval (approve, reject)")
	fs.StringVar(&d.Message, "message", "", "message to the customer (update_customer, request_info)")
	fs.StringVar(&d.Resolution, "resolution", "", "the resolution (resolve)")
	fs.StringVar(&d.Explanation, "explanation", "", "explanation for the customer (resolve at tier 3+)")
	fs.StringVar(&d.Assignee, "assignee", "", "new owner (reassign)")
	fs.StringVar(&d.Text, "text", "", "internal note (note)")
	fs.StringVar(&d.Note, "note", "", "note on an approval (approve, reject)")
	fs.StringVar(&d.DecisionID, "decision-id", "", "your id of this decision, so that repeating the command applies it once (default random)")
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
	if mode != "" {
		d.Mode = tierflow.EscalationMode(mode)
		if d.Mode != tierflow.EscalationFunctional && d.Mode != tierflow.EscalationHierarchical {
			return usageErrorf(fs, "--mode must be functional or hierarchical, not %q", mode)
		}
	}
	if amount != "" {
		d.AmountCents, err = parseAmount(amount, d.Currency)
		if err != nil {
			return usageErrorf(fs, "--amount: %v", err)
		}
	}
	d.Currency = strings.ToUpper(d.Currency)

	view, err := e.client().Decide(ctx, caseID, d)
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
