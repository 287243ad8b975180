package main

import (
	"fmt"
	"strings"

	"github.com/tierflow/tierflow/internal/secrets"
)

type bannerInfo struct {
	Root, DataDir    string
	PublicURL        string
	UIURL            string
	CodecURL         string // the API's codec endpoint, http://localhost:<port>/codec
	CodecKeys        string // which keys encrypt the payloads
	TemporalHostPort string
	DSN              string
	OwnPostgres      bool
	Fast             bool
	Mailbox          bool
	WorkerMetrics    string // host:port
	APIMetrics       string
}

// banner says where everything is once the stack is up.
func banner(b bannerInfo) string {
	var s strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&s, format+"\n", args...) }
	policy := "standard (business-hour clocks); for clocks in seconds: make dev-fast, or go run ./dev --fast"
	if b.Fast {
		policy = "fast (the demo policy: clocks run in seconds); restart without --fast for the standard one"
	}
	data := rel(b.Root, b.DataDir) + "/ (kept between runs; go run ./dev --reset starts over)"
	pg := b.DSN
	if !b.OwnPostgres {
		pg = "DATABASE_URL (given)"
	}
	mail := b.PublicURL + "/dev/mailbox/  (email is kept here, not sent;\n" +
		"                 the browser asks: any user name, a dev token such as dev-viewer as the password)"
	if !b.Mailbox {
		mail = "SendGrid (SENDGRID_API_KEY is set): real email is sent"
	}

	line("")
	line("================================================================================")
	line(" Tierflow is running. Ctrl-C stops everything.")
	line("================================================================================")
	line("  API            %s   (GET /healthz, /readyz)", b.PublicURL)
	line("  OpenAPI        %s/openapi.yaml", b.PublicURL)
	line("  Temporal UI    %s  (payloads decoded through the API's codec endpoint)", b.UIURL)
	line("  Temporal       %s (namespace default, task queue tierflow-cases)", b.TemporalHostPort)
	line("  Mailbox        %s", mail)
	line("  PostgreSQL     %s", pg)
	line("  Metrics        http://%s/metrics (worker), http://%s/metrics (API)", b.WorkerMetrics, b.APIMetrics)
	line("  Data           %s", data)
	line("  Policy         %s", policy)
	line("                 (a case may also name its policy: \"policy\": \"fast\" or \"standard\")")
	line("")
	line("  Dev tokens (Authorization: Bearer <token>; principal IDs dev:integration, dev:agent, ...):")
	line("    dev-integration  a CRM backend: open cases, relay customer events")
	line("    dev-agent        tier 1 frontline agent")
	line("    dev-specialist   tier 2 specialist (billing, technical)")
	line("    dev-supervisor   tier 3 supervisor")
	line("    dev-executive    tier 4 executive")
	line("    dev-viewer       read only")
	line("")
	line("  Open a case:")
	line(`    curl -s %s/v1/cases -H 'Authorization: Bearer dev-integration' \`, b.PublicURL)
	line(`      -H 'Content-Type: application/json' -d '{"source":"demo","external_id":"1001",`)
	line(`      "customer":{"id":"C-1","name":"Ada Lovelace","email":"ada@example.com","locale":"en"},`)
	line(`      "subject":"Refund not received","description":"Paid twice for order 7731.",`)
	line(`      "category":"billing","priority":"high","channel":"phone","trigger":"unresolved",`)
	line(`      "department":"billing","opened_at":"'$(date -u +%%FT%%TZ)'"}'`)
	line("  Then: curl -s %s/v1/cases/demo-1001 -H 'Authorization: Bearer dev-viewer'", b.PublicURL)
	line("")
	line("  Zendesk connector: POST %s/v1/connectors/zendesk, signing secret %s", b.PublicURL, secrets.DevZendeskSecret)
	line("    (the README's \"Connect Zendesk\" shows the trigger template and a signed curl)")
	line("")
	line("  Development only: the dev tokens, the dev mailbox and the dev keys are public;")
	line("  TIERFLOW_ENV=production refuses them (see the README's security notes).")
	line("  Customer data is encrypted in Temporal (%s).", b.CodecKeys)
	line("  To read it in the Temporal UI, an operator signs in once (one hour) at")
	line("    %s/login   with dev-supervisor or dev-executive, then reloads the UI.", b.CodecURL)
	line("  Temporal CLI: bin/temporal workflow show -w case-demo-1001 --address %s \\", b.TemporalHostPort)
	line("    --codec-endpoint %s --codec-auth 'Bearer dev-supervisor'", b.CodecURL)
	line("================================================================================")
	line("")
	return s.String()
}
