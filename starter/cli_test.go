package main

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestErrorMessages(t *testing.T) {
	api := newFakeAPI(t)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := "http://" + listener.Addr().String()
	require.NoError(t, listener.Close())

	tests := []struct {
		name   string
		res    cliResult
		stderr string
	}{
		{"401", api.as("bad-token", "show", "zendesk-1"),
			"tierflow: not authenticated: missing or unknown bearer token; pass --token or set TIERFLOW_TOKEN (401)\n"},
		{"404 names the case", api.as("dev-agent", "show", "zendesk-404"), "tierflow: case zendesk-404 not found (404)\n"},
		{"404 on decide", api.as("dev-agent", "decide", "zendesk-404", "acknowledge"), "tierflow: case zendesk-404 not found (404)\n"},
		{"422 lists fields", api.as("dev-integration", "open", "--source", "zendesk", "--external-id", "9",
			"--subject", "x", "--priority", "soon", "--trigger", "bored", "--customer-email", "nobody"),
			"tierflow: the case is invalid (422)\n" +
				"  priority: must be one of urgent, high, normal, low\n" +
				"  trigger: must be a known trigger\n" +
				"  customer.email: must be an email address\n"},
		{"no server", runCLI("--api", closedAddr, "--token", "t", "show", "zendesk-1"),
			"tierflow: cannot reach the API at " + closedAddr + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, 1, tt.res.code)
			assert.True(t, strings.HasPrefix(tt.res.stderr, tt.stderr), "stderr: %q", tt.res.stderr)
			assert.Empty(t, tt.res.stdout)
			assert.NotContains(t, tt.res.stderr, "goroutine", "no stack traces")
		})
	}
}

func TestUsageAndHelp(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, 2, "Usage: tierflow [--api URL] [--token TOKEN] <command> [flags]"},
		{"unknown command", []string{"frobnicate"}, 2, `tierflow: unknown command "frobnicate"`},
		{"unknown global flag", []string{"--colour", "show"}, 2, "flag provided but not defined: -colour"},
		{"help", []string{"--help"}, 0, "Cases:\n  decide      take a decision on a case"},
		{"open without identity", []string{"open", "--subject", "x"}, 2, "tierflow open: --source and --external-id are required"},
		{"open with both file and bulk", []string{"open", "--file", "a", "--bulk", "b"}, 2, "use --file or --bulk, not both"},
		{"open bad start tier", []string{"open", "--source", "z", "--external-id", "1", "--start-tier", "7"}, 2, "--start-tier must be 1 to 4"},
		{"open bad time", []string{"open", "--source", "z", "--external-id", "1", "--opened-at", "yesterday"}, 2, "is not an RFC 3339 time"},
		{"show without id", []string{"show"}, 2, "tierflow show: missing <case-id>"},
		{"list bad status", []string{"list", "--status", "lost"}, 2, `unknown --status "lost"`},
		{"list bad limit", []string{"list", "--limit", "500"}, 2, "--limit must be 1 to 200"},
		{"kpis bad group", []string{"kpis", "--group-by", "colour"}, 2, "--group-by must be"},
		{"kpis bad date", []string{"kpis", "--from", "last week"}, 2, "is neither a date"},
		{"kpis reversed", []string{"kpis", "--from", "2026-12-01", "--to", "2026-11-01"}, 2, "--from must be before --to"},
		{"event without kind", []string{"event", "zendesk-1"}, 2, "missing <kind>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(append([]string{"--api", "http://127.0.0.1:1"}, tt.args...)...)
			assert.Equal(t, tt.code, res.code, res.stderr)
			assert.Contains(t, res.stderr+res.stdout, tt.stderr)
		})
	}
	for _, path := range commandPaths(newRootCommand(newEnv(io.Discard, io.Discard))) {
		t.Run("help "+path, func(t *testing.T) {
			res := runCLI(append(strings.Fields(path), "--help")...)
			assert.Equal(t, 0, res.code)
			assert.Contains(t, res.stderr, "Usage: tierflow "+path)
			assert.Contains(t, res.stderr, "-api string")
		})
	}
}

func TestGlobalFlagsAfterCommandAndEnv(t *testing.T) {
	api := newFakeAPI(t)
	api.views["zendesk-1"] = tierflow.CaseView{ID: "zendesk-1", Subject: "hello"}
	res := runCLI("show", "zendesk-1", "--api", api.URL, "--token", "dev-agent")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "Case zendesk-1: hello")

	t.Setenv("TIERFLOW_API", api.URL)
	t.Setenv("TIERFLOW_TOKEN", "dev-agent")
	res = runCLI("show", "zendesk-1")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "Case zendesk-1: hello")
}

func TestList(t *testing.T) {
	api := newFakeAPI(t)
	now := time.Now()
	soon, later := now.Add(90*time.Minute+30*time.Second), now.Add(50*time.Hour+30*time.Second)
	owner := "spec-7"
	api.pages[""] = tierflow.CasePage{NextCursor: "p2", Cases: []tierflow.CaseView{
		{ID: "zendesk-1", Status: tierflow.StatusOpen, Tier: 1, Priority: tierflow.PriorityHigh, Subject: "Refund not received",
			Deadlines: tierflow.Deadlines{AcknowledgeBy: &soon, CloseTargetAt: &later}},
		{ID: "salesforce-77", Status: tierflow.StatusInProgress, Tier: 3, Priority: tierflow.PriorityUrgent, Department: "billing",
			Assignee: &owner, Subject: "Charged twice", CloseTargetBreached: true,
			Breaches: []tierflow.Breach{{Clock: tierflow.ClockAcknowledge, Tier: 2}}, Deadlines: tierflow.Deadlines{ResolveBy: &later}},
	}}
	api.pages["p2"] = tierflow.CasePage{Cases: []tierflow.CaseView{{ID: "zendesk-3", Status: tierflow.StatusClosed, Tier: 2,
		Priority: tierflow.PriorityLow, Subject: "Old"}}}

	res := api.as("dev-supervisor", "list", "--breached", "--tier", "3", "--status", "in_progress", "--limit", "2")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "ID             STATUS       TIER  PRIORITY  DEPARTMENT  OWNER       NEXT DEADLINE         BREACHES  SUBJECT\n"+
		"zendesk-1      open         1     high      -           unassigned  acknowledge in 1h30m  0         Refund not received\n"+
		"salesforce-77  in_progress  3     urgent    billing     spec-7      resolve in 2d2h       1+30d     Charged twice\n",
		res.stdout)
	assert.Equal(t, "more cases: add --cursor p2, or --all\n", res.stderr)
	assert.Equal(t, []string{"breached=true&limit=2&status=in_progress&tier=3"}, api.listQueries)

	res = api.as("dev-supervisor", "list", "--all", "--breached=false")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "zendesk-3 ")
	assert.Empty(t, res.stderr)
	assert.Equal(t, []string{"breached=false&limit=50", "breached=false&cursor=p2&limit=50"}, api.listQueries[1:])
}

func TestKPIs(t *testing.T) {
	api := newFakeAPI(t)
	csat, p50, p90 := 4.25, tierflow.Duration{Duration: 26 * time.Hour}, tierflow.Duration{Duration: 90 * time.Hour}
	api.kpis = tierflow.KPIReport{
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), GroupBy: "tier",
		Total: tierflow.KPIs{CasesOpened: 120, EscalatedCases: 40, EscalationRate: 1.0 / 3, FirstTierResolutionRate: 0.5,
			ResolvedCases: 100, TimeToResolutionP50: &p50, TimeToResolutionP90: &p90, CSATAverage: &csat,
			EscalationsToTier: map[string]int{"2": 30, "3": 10}, CompensationCents: map[string]int64{"EUR": 123450},
			TopCategories: []tierflow.CategoryCount{{Category: "billing", Cases: 22}}},
		Groups: []tierflow.KPIs{{Group: "1", CasesOpened: 80, EscalationRate: 0.25}, {Group: "2", CasesOpened: 40}},
	}
	res := api.as("dev-supervisor", "kpis", "--from", "2026-11-01", "--to", "2026-12-01T00:00:00Z", "--group-by", "tier")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "from=2026-11-01T00%3A00%3A00Z&group_by=tier&to=2026-12-01T00%3A00%3A00Z", api.kpiQuery)
	for _, want := range []string{
		"KPIs of cases opened from 2026-11-01 00:00:00Z to 2026-12-01 00:00:00Z\n",
		"  escalated                40 (33.3%)\n",
		"  escalations to tier      2: 30, 3: 10\n",
		"  time to resolution       p50 1d2h, p90 3d18h\n",
		"  CSAT                     4.25/5 (distribution -)\n",
		"  compensation             1234.50 EUR\n",
		"  top categories           billing (22)\n",
		"\nBy tier\n",
		"TIER  OPENED  ESCALATED",
	} {
		assert.Contains(t, res.stdout, want)
	}
}
