package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// cliResult is what one run of the CLI produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return cliResult{code, stdout.String(), stderr.String()}
}

// as runs the CLI against the fake API with a token.
func (f *fakeAPI) as(token string, args ...string) cliResult {
	return runCLI(append([]string{"--api", f.URL, "--token", token}, args...)...)
}

func TestOpenFromFlags(t *testing.T) {
	api := newFakeAPI(t)
	before := time.Now().UTC().Truncate(time.Second)
	res := api.as("dev-integration", "open", "--source", "zendesk", "--external-id", "48213",
		"--subject", "Refund not received", "--priority", "high", "--trigger", "complexity",
		"--customer-id", "C-991", "--customer-name", "Ada Lovelace", "--customer-email", "ada@example.com",
		"--vip", "--department", "billing", "--category", "billing", "--start-tier", "2",
		"--summary", "Charge settled; no authority to refund twice.")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "opened zendesk-48213 (status open, tier 2 specialist, department billing)\n", res.stdout)

	req := api.opened["zendesk-48213"]
	assert.Equal(t, tierflow.Customer{ID: "C-991", Name: "Ada Lovelace", Email: "ada@example.com", VIP: true}, req.Customer)
	assert.Equal(t, tierflow.PriorityHigh, req.Priority)
	assert.Equal(t, tierflow.TriggerComplexity, req.Trigger)
	require.NotNil(t, req.StartTier)
	assert.Equal(t, tierflow.TierSpecialist, *req.StartTier)
	assert.Equal(t, "Charge settled; no authority to refund twice.", req.FrontlineSummary)
	assert.WithinRange(t, req.OpenedAt, before, time.Now().Add(time.Second), "--opened-at defaults to now")

	res = api.as("dev-integration", "open", "--source", "zendesk", "--external-id", "1", "--subject", "x",
		"--priority", "low", "--trigger", "unresolved", "--customer-email", "a@b.c", "--opened-at", "2026-11-20T10:15:00+01:00")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC), api.opened["zendesk-1"].OpenedAt)
	assert.Nil(t, api.opened["zendesk-1"].StartTier, "no --start-tier leaves it to the policy")
}

func TestOpenFromFile(t *testing.T) {
	api := newFakeAPI(t)
	path := filepath.Join(t.TempDir(), "case.json")
	require.NoError(t, os.WriteFile(path, []byte(`{
		"source": "zendesk", "external_id": "48213",
		"customer": {"id": "C-991", "name": "Ada Lovelace", "email": "ada@example.com"},
		"subject": "Refund not received", "priority": "high", "trigger": "unresolved",
		"opened_at": "2026-11-20T09:15:00Z", "department": "billing", "start_tier": null}`), 0o600))

	res := api.as("dev-integration", "open", "--file", path)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "opened zendesk-48213 (status open, tier 1 frontline, department billing)\n", res.stdout)
	assert.Equal(t, "Ada Lovelace", api.opened["zendesk-48213"].Customer.Name)

	res = api.as("dev-integration", "open", "--file", path)
	require.Equal(t, 0, res.code, res.stderr)
	assert.True(t, strings.HasPrefix(res.stdout, "already open: zendesk-48213"), res.stdout)

	res = api.as("dev-integration", "open", "--file", path, "--json")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, `"id": "zendesk-48213"`)

	typo := filepath.Join(t.TempDir(), "typo.json")
	require.NoError(t, os.WriteFile(typo, []byte(`{"source": "zendesk", "externalid": "1"}`), 0o600))
	res = api.as("dev-integration", "open", "--file", typo)
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, `typo.json: invalid JSON: json: unknown field "externalid"`)

	res = api.as("dev-integration", "open", "--file", path, "--subject", "x")
	assert.Equal(t, 2, res.code, "case flags and --file do not mix")
}

func TestBulkImport(t *testing.T) {
	api := newFakeAPI(t)
	line := func(id, priority string) string {
		return `{"source":"zendesk","external_id":"` + id + `","customer":{"id":"C-` + id + `","email":"c` + id +
			`@example.com"},"subject":"Issue ` + id + `","priority":"` + priority + `","trigger":"unresolved","opened_at":"2026-11-20T09:15:00Z"}`
	}
	file := strings.Join([]string{
		line("1", "high"),
		line("2", "low"),
		`{"source": "zendesk", "external_id": `, // line 3: cut short
		"",                                      // blank lines are skipped
		line("5", "whenever"),                   // line 5: rejected by the API
		line("6", "urgent"),
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "cases.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(file), 0o600))

	res := api.as("dev-integration", "open", "--bulk", path, "--concurrency", "2")
	assert.Equal(t, 1, res.code, "a failed line fails the import")
	assert.Contains(t, res.stdout, "5 cases, opened 3, existing 0, failed 2\n")
	assert.Contains(t, res.stderr, "[==============================] 5/5 opened 3, existing 0, failed 2\n")
	assert.Contains(t, res.stderr, "line 3: invalid JSON: unexpected EOF\n")
	assert.Contains(t, res.stderr, "line 5 (zendesk-5): the case is invalid (422)\n  priority: must be one of urgent, high, normal, low\n")
	assert.Less(t, strings.Index(res.stderr, "line 3:"), strings.Index(res.stderr, "line 5"), "failures are listed in line order")
	assert.Contains(t, res.stderr, "tierflow: 2 of 5 cases failed\n")
	assert.Len(t, api.opened, 3)
	assert.Contains(t, api.opened, "zendesk-6", "lines after a bad one are imported")

	res = api.as("dev-integration", "open", "--bulk", path)
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stdout, "opened 0, existing 3, failed 2", "a second import finds the cases already open")

	good := filepath.Join(t.TempDir(), "good.jsonl")
	require.NoError(t, os.WriteFile(good, []byte(line("7", "normal")+"\n"+line("8", "normal")), 0o600))
	res = api.as("dev-integration", "open", "--bulk", good)
	assert.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "2 cases, opened 2, existing 0, failed 0")

	assert.Equal(t, 2, api.as("dev-integration", "open", "--bulk", good, "--concurrency", "0").code)
}
