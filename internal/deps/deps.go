//go:build tools

// Package deps pins the modules the project builds with, so that `go mod tidy`
// keeps them while the packages that use them are being written.
package deps

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/tern/v2/migrate"
	_ "github.com/sendgrid/sendgrid-go"
	_ "github.com/stretchr/testify/require"
	_ "github.com/uber-go/tally/v4/prometheus"
	_ "go.temporal.io/sdk/client"
	_ "go.temporal.io/sdk/contrib/envconfig"
	_ "go.temporal.io/sdk/contrib/tally"
	_ "sigs.k8s.io/yaml"
)
