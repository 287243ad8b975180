package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tierflow/tierflow/internal/prodlocal"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// banner says where everything is once the topology is up.
func banner(t *prodlocal.Topology, root string, took time.Duration) string {
	var s strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&s, format+"\n", args...) }
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	logs := func(name string) string { return rel(filepath.Join(t.LogDir, name)) }

	line("")
	line("================================================================================")
	line(" Tierflow's production topology is running (up in %s). Ctrl-C stops everything.", took.Round(100*time.Millisecond))
	line("================================================================================")
	line("  Temporal       %s  (server %s, namespace %s, PostgreSQL persistence and visibility)",
		t.FrontendAddress, temporalfull.ServerVersion, prodlocal.Namespace)
	line("  Temporal UI    %s  (ui-server %s)", t.UIURL, temporalfull.UIServerVersion)
	for i, u := range t.APIURLs {
		line("  API %d          %s  (metrics http://%s/metrics)", i+1, u, t.APIMetrics[i])
	}
	for i, m := range t.WorkerMetrics {
		line("  Worker %d       http://%s/readyz, /metrics", i+1, m)
	}
	if t.TemporalMetrics != "" {
		line("  Server metrics http://%s/metrics", t.TemporalMetrics)
	}
	line("  PostgreSQL     %s", t.DSN())
	line("                 %s, %s (Temporal's)", t.Postgres.DSN(prodlocal.TemporalDB), t.Postgres.DSN(prodlocal.VisibilityDB))
	if t.Mailbox {
		line("  Mailbox        %s/dev/mailbox/  (email is kept, not sent; both APIs show it;", t.APIURLs[0])
		line("                 the browser asks: any user name, a dev token as the password)")
	} else {
		line("  Mailbox        SendGrid (SENDGRID_API_KEY is set): real email is sent")
	}
	policy := "standard; for clocks in seconds: make prod-local PROD_FLAGS=--fast"
	if t.Fast {
		policy = "fast (the demo policy: clocks run in seconds)"
	}
	line("  Policy         %s", policy)
	line("  Data           %s/ (kept between runs; PROD_FLAGS=--reset starts over)", rel(t.DataDir))
	line("  Logs           %s/: temporal.log, temporal-ui.log, worker-N.log, api-N.log;", rel(t.LogDir))
	line("                 PostgreSQL: %s", rel(t.Postgres.LogFile()))
	line("  Processes      %s", pids(t))
	line("  Start-up       %s", durations(t.StartupDurations))
	line("")
	line("  Dev tokens (Authorization: Bearer <token>): dev-integration, dev-agent,")
	line("  dev-specialist, dev-supervisor, dev-executive, dev-viewer (see the README).")
	line("  Any API serves any case: open through API 1, act through API 2.")
	line("  Payloads are encrypted in Temporal (key in %s/codec.keys, or TIERFLOW_CODEC_KEYS).", rel(t.DataDir))
	line("  To read them in the UI, an operator signs in at %s/login (dev-supervisor,", t.CodecURL)
	line("  dev-executive); the CLI takes --codec-endpoint %s --codec-auth 'Bearer dev-supervisor'.", t.CodecURL)
	line("  Cases in Temporal:  bin/temporal workflow list --address %s --query 'CaseTier >= 1'", t.FrontendAddress)
	line("  Server logs:        tail -f %s", logs("temporal.log"))
	line("================================================================================")
	line("")
	return s.String()
}

func pids(t *prodlocal.Topology) string {
	var parts []string
	for _, p := range t.Processes() {
		parts = append(parts, fmt.Sprintf("%s=%d", p.Name(), p.Pid()))
	}
	return strings.Join(parts, " ")
}

func durations(d map[string]time.Duration) string {
	var parts []string
	for name, v := range d {
		parts = append(parts, fmt.Sprintf("%s %s", name, v.Round(100*time.Millisecond)))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
