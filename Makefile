# Tierflow: `make dev` runs the product, `make test` passes the tests (CI runs it).
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
TEMPORAL_CLI_VERSION := v1.5.1
TEMPORAL := $(BIN)/temporal

.PHONY: test vet unit temporal-cli
test: vet unit

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

temporal-cli: $(TEMPORAL)
$(TEMPORAL):
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)
