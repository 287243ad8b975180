package main

import (
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, currency string
		want         int64
		err          string
	}{
		{"12.5", "EUR", 1250, ""},
		{"12.50", "EUR", 1250, ""},
		{"12", "EUR", 1200, ""},
		{"0.07", "usd", 7, ""},
		{".5", "EUR", 50, ""},
		{" 1000.00 ", "", 100000, ""},
		{"1500", "JPY", 1500, ""},
		{"12.345", "KWD", 12345, ""},
		{"92233720368547758.07", "EUR", math.MaxInt64, ""},
		{"12.345", "EUR", 0, `"12.345" has more than 2 decimals for EUR`},
		{"1500.5", "JPY", 0, "more than 0 decimals"},
		{"12.", "EUR", 0, "not a decimal amount"},
		{"-5", "EUR", 0, "not a decimal amount"},
		{"1,000.00", "EUR", 0, "not a decimal amount"},
		{"1e3", "EUR", 0, "not a decimal amount"},
		{"abc", "EUR", 0, "not a decimal amount"},
		{"", "EUR", 0, "empty amount"},
		{"92233720368547758.08", "EUR", 0, "too large"},
		{"99999999999999999999", "EUR", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := parseAmount(tt.in, tt.currency)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, "amount %q", tt.in)
			continue
		}
		require.NoError(t, err, "amount %q", tt.in)
		assert.Equal(t, tt.want, got, "amount %q %s", tt.in, tt.currency)
	}
	assert.Equal(t, "12.50 EUR", formatAmount(1250, "EUR"))
	assert.Equal(t, "1500 JPY", formatAmount(1500, "JPY"))
	assert.Equal(t, "-0.05 USD", formatAmount(-5, "USD"))
}

func TestDecide(t *testing.T) {
	api := newFakeAPI(t)
	api.views["zendesk-1"] = tierflow.CaseView{ID: "zendesk-1", Status: tierflow.StatusInProgress, Tier: 2, Department: "billing"}

	res := api.as("dev-agent", "decide", "zendesk-1", "propose_compensation", "--amount", "12.5", "--currency", "eur",
		"--description", "goodwill")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "propose_compensation zendesk-1: status in_progress, tier 2 specialist, department billing, owner unassigned\n", res.stdout)
	require.Len(t, api.decisions, 1)
	sent := api.decisions[0]
	assert.Equal(t, float64(1250), sent["amount_cents"])
	assert.Equal(t, "EUR", sent["currency"])
	assert.Equal(t, "goodwill", sent["description"])
	assert.NotContains(t, sent, "actor", "the server sets the actor from the token")
	assert.NotEmpty(t, sent["decision_id"])

	// Flags may come before the positional arguments too.
	res = api.as("dev-agent", "decide", "--mode", "functional", "--department", "technical", "zendesk-1", "escalate",
		"--reason", "needs an engineer", "--summary", "tried a reset", "--decision-id", "d-42")
	require.Equal(t, 0, res.code, res.stderr)
	sent = api.decisions[1]
	assert.Equal(t, map[string]any{"action": "escalate", "mode": "functional", "department": "technical",
		"reason": "needs an engineer", "summary": "tried a reset", "decision_id": "d-42"}, sent)

	res = api.as("dev-agent", "decide", "zendesk-1", "acknowledge")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "status in_progress, tier 2 specialist, department billing, owner agent-1")
}

func TestDecideUsageErrors(t *testing.T) {
	api := newFakeAPI(t)
	api.views["zendesk-1"] = tierflow.CaseView{ID: "zendesk-1"}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"too many decimals", []string{"zendesk-1", "propose_compensation", "--amount", "12.345", "--currency", "EUR"},
			`tierflow decide: --amount: "12.345" has more than 2 decimals for EUR`},
		{"not a number", []string{"zendesk-1", "propose_compensation", "--amount", "twelve"}, "not a decimal amount"},
		{"unknown action", []string{"zendesk-1", "approve_all"}, `unknown action "approve_all"; one of acknowledge, note,`},
		{"bad mode", []string{"zendesk-1", "escalate", "--mode", "sideways"}, "--mode must be functional or hierarchical"},
		{"missing action", []string{"zendesk-1"}, "tierflow decide: missing <action>"},
		{"missing both", nil, "missing <case-id> and <action>"},
		{"extra argument", []string{"zendesk-1", "note", "again"}, `unexpected argument "again"`},
		{"unknown flag", []string{"zendesk-1", "note", "--txt", "x"}, "flag provided but not defined: -txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := api.as("dev-agent", append([]string{"decide"}, tt.args...)...)
			assert.Equal(t, 2, res.code)
			assert.Contains(t, res.stderr, tt.stderr)
		})
	}
	assert.Empty(t, api.decisions, "nothing is sent after a usage error")
}

func TestEvent(t *testing.T) {
	api := newFakeAPI(t)
	res := api.as("dev-integration", "event", "zendesk-1", "reply", "--message", "here is the receipt", "--event-id", "c-9")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "reply relayed to zendesk-1\n", res.stdout)
	require.Len(t, api.customerEvents, 1)
	assert.Equal(t, map[string]any{"kind": "reply", "message": "here is the receipt", "event_id": "c-9"}, api.customerEvents[0])

	res = api.as("dev-integration", "event", "zendesk-1", "shouted")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, `unknown event "shouted"; one of reply, requested_supervisor, external_complaint, withdrawn`)
}

// The decide help comes from tierflow.ActionSpecs: every action, with its required
// fields' flags and its optional ones in brackets; every field an action names has a
// flag, and the flag fills that field of the decision sent.
func TestDecideHelpComesFromTheActionTable(t *testing.T) {
	help := decideSynopsis()
	lines := strings.Split(help, "\n")
	for _, a := range tierflow.Actions {
		spec, ok := tierflow.SpecOf(a)
		require.True(t, ok, a)
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  "+string(a)+" ") || l == "  "+string(a) })
		require.GreaterOrEqual(t, i, 0, "action %s is missing from the help:\n%s", a, help)
		words := strings.Fields(lines[i])
		for _, field := range spec.Required {
			f, ok := decisionFlags[field]
			require.True(t, ok, "field %q of %s has no CLI flag in decisionFlags", field, a)
			assert.Contains(t, words, "--"+f.name, "%s's help line names its required --%s", a, f.name)
		}
		for _, field := range spec.Optional {
			f, ok := decisionFlags[field]
			require.True(t, ok, "field %q of %s has no CLI flag in decisionFlags", field, a)
			assert.Contains(t, lines[i], "[--"+f.name, "%s's help line names its optional --%s in brackets", a, f.name)
		}
		assert.Equal(t, "      "+spec.Doc, lines[i+1], "%s's line follows it", a)
	}

	fs := decideFlagSet(&env{stderr: io.Discard}, &decideArgs{})
	for _, spec := range tierflow.ActionSpecs {
		for _, field := range slices.Concat(spec.Required, spec.Optional) {
			f, ok := decisionFlags[field]
			if assert.True(t, ok, "field %q of %s has no CLI flag", field, spec.Action) {
				assert.NotNil(t, fs.Lookup(f.name), "--%s is registered", f.name)
			}
		}
	}

	// Each action's flags fill the fields of its declaration, by their JSON names.
	api := newFakeAPI(t)
	api.views["zendesk-1"] = tierflow.CaseView{ID: "zendesk-1"}
	for _, spec := range tierflow.ActionSpecs {
		args := []string{"decide", "zendesk-1", string(spec.Action), "--decision-id", "d-" + string(spec.Action)}
		want := map[string]any{"action": string(spec.Action), "decision_id": "d-" + string(spec.Action)}
		for _, field := range slices.Concat(spec.Required, spec.Optional) {
			value := "x-" + field
			switch field {
			case "mode":
				value = "hierarchical"
			case "amount_cents":
				value = "12.50"
			case "currency":
				value = "EUR"
			}
			args = append(args, "--"+decisionFlags[field].name, value)
			want[field] = value
			if field == "amount_cents" {
				want[field] = float64(1250)
			}
		}
		res := api.as("dev-agent", args...)
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, want, api.decisions[len(api.decisions)-1], "%s", spec.Action)
	}
}

// The flag names are a contract with scripts: a field's flag does not change name.
func TestDecideFlagNamesAreStable(t *testing.T) {
	want := map[string]string{"text": "text", "message": "message", "mode": "mode", "department": "department",
		"reason": "reason", "summary": "summary", "assignee": "assignee", "amount_cents": "amount", "currency": "currency",
		"description": "description", "approval_id": "approval-id", "note": "note", "resolution": "resolution",
		"explanation": "explanation"}
	for field, name := range want {
		assert.Equal(t, name, decisionFlags[field].name, "the flag of %s", field)
	}
}

func TestDecideHelp(t *testing.T) {
	res := runCLI("decide", "--help")
	require.Equal(t, 0, res.code)
	assert.Contains(t, res.stderr, "Usage: tierflow decide <case-id> <action> [flags]\n\nActions, their flags")
	assert.Contains(t, res.stderr, "\n  propose_compensation --amount 12.50 --currency EUR --description\n      offer an amount")
	assert.Contains(t, res.stderr, "\n  escalate --mode functional|hierarchical --reason --summary [--department]\n")
	assert.Contains(t, res.stderr, "why (escalate, transfer, reassign, reopen, close, migrate_policy)", "a flag's usage names the actions taking it")
}
