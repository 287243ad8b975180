# Tierflow: `make dev` runs the product, `make test` passes the tests (CI runs it).
# Needs only Go, make and the PostgreSQL server binaries; the rest comes through
# the Go module proxy.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
TEMPORAL_CLI_VERSION := v1.5.1
TEMPORAL := $(BIN)/temporal
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 15m
TEST_FLAGS ?= -race
# The production topology (make prod-local): the full Temporal server, its SQL
# schema tool and the standalone UI, pinned and built outside our module.
TEMPORAL_SERVER_VERSION := v1.29.1
TEMPORAL_UI_VERSION := v2.42.1
TEMPORAL_SERVER := $(BIN)/temporal-server
TEMPORAL_SQL_TOOL := $(BIN)/temporal-sql-tool
TEMPORAL_UI_SERVER := $(BIN)/temporal-ui-server

.PHONY: dev dev-fast dev-reset test vet workflowcheck unit lint build temporal-cli postgres-check chromium

# The dev runner is built and exec'd rather than `go run`: `go run` exits 1 after
# any Ctrl-C, even when everything stopped cleanly.
## dev: run the whole product here (Temporal + UI :8233, PostgreSQL, worker, API :8080); Ctrl-C stops it
dev:
	$(GO) build -o $(BIN)/dev ./dev && exec $(BIN)/dev $(DEV_FLAGS)

## dev-fast: the same with the demo policy whose clocks run in seconds
dev-fast:
	$(GO) build -o $(BIN)/dev ./dev && exec $(BIN)/dev --fast $(DEV_FLAGS)

## dev-reset: the same, after deleting the dev data in .tierflow/
dev-reset:
	$(GO) build -o $(BIN)/dev ./dev && exec $(BIN)/dev --reset $(DEV_FLAGS)

## test: what CI runs: vet, workflowcheck, every test with the race detector
test: temporal-cli prod-local-bins postgres-check chromium vet workflowcheck unit

vet:
	$(GO) vet ./...

workflowcheck:
	$(GO) run $(WORKFLOWCHECK) ./workflows/... ./internal/updateauth/...

unit:
	$(GO) test $(TEST_FLAGS) -count=1 -timeout $(TEST_TIMEOUT) ./...

## lint: formatting and staticcheck (not part of test)
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...

## build: every command (api, worker, starter, dev) into bin/
build:
	$(GO) build -o $(BIN)/ ./...

## temporal-cli: the pinned Temporal CLI (dev server + UI) into bin/ (about 2 minutes cold)
temporal-cli: $(TEMPORAL)
$(TEMPORAL):
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

# Integration tests start their own PostgreSQL cluster from the server binaries.
postgres-check:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; else \
		echo "PostgreSQL server binaries (initdb, pg_ctl, postgres) are missing:" >&2; \
		echo "  Debian/Ubuntu: apt-get install postgresql   (other systems: the PostgreSQL server package)" >&2; \
		exit 1; \
	fi

# The end-to-end test drives Debian's headless Chromium (a browser cannot be
# downloaded by a test tool here). Installed from Debian's packages when missing
# and we may (root); otherwise say how.
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Chromium from Debian's packages for the end-to-end test..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium is missing (the end-to-end test needs it): apt-get install -y chromium" >&2; exit 1; \
	fi

## bench: the benchmarks of operations.md "Proof" and issue 10, side by side with a baseline on the same server (about 35 min; BENCH_FLAGS=-quick: about 3 min; -server=full, -phases=...: see bench/README.md)
.PHONY: bench
bench: temporal-cli prod-local-bins postgres-check
	$(GO) run ./bench $(BENCH_FLAGS)

## prod-local: the production topology here: full Temporal server on PostgreSQL + UI :8233, 2 workers, 2 APIs (:8080, :8081); Ctrl-C stops it (PROD_FLAGS=--fast, --reset)
.PHONY: prod-local prod-local-bins prod-local-test
prod-local: prod-local-bins postgres-check
	$(GO) build -o $(BIN)/prodlocal ./prodlocal && exec $(BIN)/prodlocal $(PROD_FLAGS)

## prod-local-bins: the pinned Temporal server, SQL tool and UI server into bin/ (several minutes the first time)
prod-local-bins: $(TEMPORAL_SERVER) $(TEMPORAL_SQL_TOOL) $(TEMPORAL_UI_SERVER)

# `go install` names two of them "server": each is installed into a folder of its
# own under bin/.install/ and renamed.
$(TEMPORAL_SERVER):
	GOBIN=$(BIN)/.install/server $(GO) install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION)
	mv $(BIN)/.install/server/server $@
$(TEMPORAL_SQL_TOOL):
	GOBIN=$(BIN)/.install/sql $(GO) install go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
	mv $(BIN)/.install/sql/sql $@
$(TEMPORAL_UI_SERVER):
	GOBIN=$(BIN)/.install/ui $(GO) install github.com/temporalio/ui-server/v2/cmd/server@$(TEMPORAL_UI_VERSION)
	mv $(BIN)/.install/ui/server $@

## prod-local-test: the production topology's integration test (not part of test: it needs prod-local-bins)
prod-local-test: prod-local-bins postgres-check
	$(GO) test -tags prodlocal -count=1 -timeout 20m -run 'TestProdLocal' -v ./internal/prodlocal/

## drill: the fault drills on the production topology (fast policy, fake SendGrid); not part of test (DRILL_FLAGS=-only 1,3,6)
.PHONY: drill
drill: prod-local-bins postgres-check
	$(GO) run ./drill $(DRILL_FLAGS)
