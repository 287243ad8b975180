package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow/client"
	"github.com/tierflow/tierflow/simulate"
)

// migrateOptions are the flags of "policy migrate".
type migrateOptions struct {
	to, query, reason, id, status string
	dryRun, noWait, asJSON        bool
	pollInterval                  time.Duration
}

func newPolicyMigrateCommand(e *env) *cobra.Command {
	var o migrateOptions
	c := &cobra.Command{
		Use:   "migrate (--to POLICY --query QUERY --reason TEXT [--dry-run | --no-wait] | --status MIGRATION_ID)",
		Short: "move the cases in flight that a visibility query matches to another policy version",
		Long: `Move the running cases that a Temporal visibility query matches (for example
"CaseTier >= 2" or "CaseStatus = 'open'") to a loaded policy (name or
name@version). Each case gets a migrate_policy decision: its deadlines are
recomputed and explained with both versions, a policy_migrated event is recorded,
and the customer is told when their ETA changed. With --dry-run nothing changes:
the command lists the matched cases and the simulator's verdict of the new policy
on their recorded history. Run the dry run first.

The real run starts the migration on the server (a Temporal workflow that sends
the decisions, 8 cases at a time) and follows it: a progress line as it advances
("migrating: 12/37 done (10 migrated, 1 unchanged, 1 refused)"), then the summary.
Interrupting the command does not stop the migration; --no-wait prints its id and
progress URL at once, and --status MIGRATION_ID reads where one stands. Repeating
the same migration attaches to it and moves no case twice. Needs a supervisor or
executive token.`,
		Example: `  tierflow policy migrate --to fast --query "CaseTier >= 2" --reason "faster clocks for tier 2" --dry-run
  tierflow policy migrate --to fast --query "CaseTier >= 2" --reason "faster clocks for tier 2"
  tierflow policy migrate --status m3f2a1b0c9d8e7f60`,
		Args: positional(),
		RunE: func(c *cobra.Command, _ []string) error { return runPolicyMigrate(c, e, o) },
	}
	fs := c.Flags()
	fs.StringVar(&o.to, "to", "", "the loaded policy to move the cases to, name or name@version (required)")
	fs.StringVar(&o.query, "query", "", "a Temporal visibility query selecting the cases (required)")
	fs.StringVar(&o.reason, "reason", "", "why, recorded on every case (required)")
	fs.StringVar(&o.id, "migration-id", "", "your id of this migration, so that repeating it moves no case twice (default: derived from the request)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "list the matched cases and the simulator's verdict; change nothing")
	fs.BoolVar(&o.noWait, "no-wait", false, "start the migration, print its id and progress URL, and return")
	fs.StringVar(&o.status, "status", "", "read where the migration with this id stands (its summary once completed)")
	fs.DurationVar(&o.pollInterval, "poll-interval", time.Second, "how often to read the progress while following a migration")
	fs.BoolVar(&o.asJSON, "json", false, "print the API's answer as JSON (the final progress when following)")
	return c
}

func runPolicyMigrate(c *cobra.Command, e *env, o migrateOptions) error {
	if o.status != "" {
		if o.to != "" || o.query != "" || o.reason != "" || o.id != "" || o.dryRun || o.noWait {
			return usageErrorf(c, "--status reads a migration: give it without --to, --query, --reason, --migration-id, --dry-run and --no-wait")
		}
		p, err := e.client().MigrationProgress(c.Context(), o.status)
		if err != nil {
			return err
		}
		if o.asJSON {
			return printJSON(e.stdout, p)
		}
		return writeMigrationProgress(e, p)
	}
	if o.to == "" || o.query == "" || o.reason == "" {
		return usageErrorf(c, "--to, --query and --reason are required")
	}
	if o.dryRun && o.noWait {
		return usageErrorf(c, "--dry-run changes nothing and returns at once: drop --no-wait")
	}
	if o.pollInterval <= 0 {
		return usageErrorf(c, "--poll-interval must be positive, got %s", o.pollInterval)
	}
	res, err := e.client().MigratePolicies(c.Context(), client.PolicyMigration{To: o.to, Query: o.query,
		DryRun: o.dryRun, Reason: o.reason, MigrationID: o.id})
	if err != nil {
		return err
	}
	if o.asJSON && (res.DryRun || o.noWait) {
		return printJSON(e.stdout, res)
	}
	if !o.asJSON {
		if err := writeMigration(e, res); err != nil || res.DryRun {
			return err
		}
	}
	if o.noWait {
		fmt.Fprintf(e.stdout, "migration %s is %s: %s\nfollow it: tierflow policy migrate --status %s (GET %s)\n",
			res.MigrationID, res.Status, res.Line(), res.MigrationID, res.ProgressURL)
		return nil
	}
	p, err := followMigration(c.Context(), e, res.MigrationProgress, o.pollInterval, !o.asJSON)
	if err != nil {
		return err
	}
	if o.asJSON {
		return printJSON(e.stdout, p)
	}
	return writeMigrationProgress(e, p)
}

// followMigration reads the migration's progress every interval until it is no
// longer running, printing a progress line whenever it moved (when verbose).
func followMigration(ctx context.Context, e *env, p client.MigrationProgress, interval time.Duration,
	verbose bool) (client.MigrationProgress, error) {
	last := ""
	for p.Status == client.MigrationRunning {
		if line := p.Line(); verbose && line != last {
			fmt.Fprintf(e.stdout, "migrating: %s\n", line)
			last = line
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("stopped following migration %s (it goes on; read it with --status %s): %w",
				p.MigrationID, p.MigrationID, ctx.Err())
		case <-time.After(interval):
		}
		next, err := e.client().MigrationProgress(ctx, p.MigrationID)
		if err != nil {
			return p, err
		}
		p = next
	}
	return p, nil
}

// writeMigration prints the matched cases, then the dry run's verdict (the
// simulator's side-by-side table).
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
	return nil
}

// writeMigrationProgress prints where a migration stands; once completed, the
// summary: what became of each case. A refused case fails the command.
func writeMigrationProgress(e *env, p client.MigrationProgress) error {
	switch p.Status {
	case client.MigrationRunning:
		fmt.Fprintf(e.stdout, "migration %s to %s is running: %s\n", p.MigrationID, p.Policy, p.Line())
		return nil
	case client.MigrationCompleted:
	default:
		fmt.Fprintf(e.stdout, "migration %s to %s ended without completing (%s): %s\n", p.MigrationID, p.Policy, p.Status, p.Line())
	}
	fmt.Fprintf(e.stdout, "migrated %d, already on %s %d, refused %d\n", len(p.Migrated), p.Policy, len(p.Unchanged), len(p.Refused))
	if len(p.Migrated) > 0 {
		fmt.Fprintf(e.stdout, "  migrated: %s\n", strings.Join(p.Migrated, ", "))
	}
	for _, r := range p.Refused {
		fmt.Fprintf(e.stdout, "  refused %s (%d): %s\n", r.CaseID, r.Status, r.Detail)
	}
	switch {
	case p.Status != client.MigrationCompleted:
		return fmt.Errorf("migration %s did not complete (%s)", p.MigrationID, p.Status)
	case len(p.Refused) > 0:
		return fmt.Errorf("%d case(s) refused the migration", len(p.Refused))
	}
	return nil
}
