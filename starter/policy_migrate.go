package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow/client"
	"github.com/tierflow/tierflow/simulate"
)

// migrateOptions are the flags of "policy migrate".
type migrateOptions struct {
	to, query, reason, id string
	dryRun, asJSON        bool
}

func newPolicyMigrateCommand(e *env) *cobra.Command {
	var o migrateOptions
	c := &cobra.Command{
		Use:   "migrate --to POLICY --query QUERY --reason TEXT [--dry-run]",
		Short: "move the cases in flight that a visibility query matches to another policy version",
		Long: `Move the running cases that a Temporal visibility query matches (for example
"CaseTier >= 2" or "CaseStatus = 'open'") to a loaded policy (name or
name@version). Each case gets a migrate_policy decision: its deadlines are
recomputed and explained with both versions, a policy_migrated event is recorded,
and the customer is told when their ETA changed. With --dry-run nothing changes:
the command lists the matched cases and the simulator's verdict of the new policy
on their recorded history. Run the dry run first. Repeating the same migration
moves no case twice. Needs a supervisor or executive token.`,
		Example: `  tierflow policy migrate --to fast --query "CaseTier >= 2" --reason "faster clocks for tier 2" --dry-run
  tierflow policy migrate --to fast --query "CaseTier >= 2" --reason "faster clocks for tier 2"`,
		Args: positional(),
		RunE: func(c *cobra.Command, _ []string) error { return runPolicyMigrate(c, e, o) },
	}
	fs := c.Flags()
	fs.StringVar(&o.to, "to", "", "the loaded policy to move the cases to, name or name@version (required)")
	fs.StringVar(&o.query, "query", "", "a Temporal visibility query selecting the cases (required)")
	fs.StringVar(&o.reason, "reason", "", "why, recorded on every case (required)")
	fs.StringVar(&o.id, "migration-id", "", "your id of this migration, so that repeating it moves no case twice (default: derived from the request)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "list the matched cases and the simulator's verdict; change nothing")
	fs.BoolVar(&o.asJSON, "json", false, "print the API's answer as JSON")
	return c
}

func runPolicyMigrate(c *cobra.Command, e *env, o migrateOptions) error {
	if o.to == "" || o.query == "" || o.reason == "" {
		return usageErrorf(c, "--to, --query and --reason are required")
	}
	res, err := e.client().MigratePolicies(c.Context(), client.PolicyMigration{To: o.to, Query: o.query,
		DryRun: o.dryRun, Reason: o.reason, MigrationID: o.id})
	if err != nil {
		return err
	}
	if o.asJSON {
		return printJSON(e.stdout, res)
	}
	return writeMigration(e, res)
}

// writeMigration prints the matched cases, then the dry run's verdict (the
// simulator's side-by-side table) or the real run's summary.
func writeMigration(e *env, res client.MigrationResult) error {
	verb := "migration"
	if res.DryRun {
		verb = "dry run"
	}
	fmt.Fprintf(e.stdout, "%s %s to %s: %d case(s) matched\n", verb, res.MigrationID, res.Policy, len(res.Matched))
	for _, m := range res.Matched {
		fmt.Fprintf(e.stdout, "  %-40s now under %s\n", m.CaseID, m.Policy)
	}
	if res.Verdict != nil {
		fmt.Fprintln(e.stdout, "What the new policy would have done to these cases' recorded history:")
		if err := simulate.WriteTable(e.stdout, *res.Verdict); err != nil {
			return err
		}
	}
	if s := res.Summary; s != nil {
		fmt.Fprintf(e.stdout, "migrated %d, already on %s %d, refused %d\n", len(s.Migrated), res.Policy, len(s.Unchanged), len(s.Refused))
		if len(s.Migrated) > 0 {
			fmt.Fprintf(e.stdout, "  migrated: %s\n", strings.Join(s.Migrated, ", "))
		}
		for _, r := range s.Refused {
			fmt.Fprintf(e.stdout, "  refused %s (%d): %s\n", r.CaseID, r.Status, r.Detail)
		}
		if len(s.Refused) > 0 {
			return fmt.Errorf("%d case(s) refused the migration", len(s.Refused))
		}
	}
	return nil
}
