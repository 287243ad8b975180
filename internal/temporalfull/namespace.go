package temporalfull

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tierflow/tierflow/internal/searchattrs"
)

// DefaultRetention keeps closed cases' histories for a week.
const DefaultRetention = 7 * 24 * time.Hour

// Dial connects a client to namespace at the frontend, dropping the SDK's logging.
func Dial(ctx context.Context, hostPort, namespace string) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort: hostPort, Namespace: namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return nil, fmt.Errorf("dial temporal at %s: %w", hostPort, err)
	}
	return c, nil
}

// FrontendReady reports whether the frontend at hostPort answers its health check.
func FrontendReady(ctx context.Context, hostPort string) error {
	c, err := Dial(ctx, hostPort, "default")
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("frontend health: %w", err)
	}
	return nil
}

// EnsureNamespace registers namespace with retention unless it exists: the full
// server creates no namespace by itself (the temporal-sql-tool does not either;
// the official images run `temporal operator namespace create` after start).
func EnsureNamespace(ctx context.Context, c client.Client, namespace string, retention time.Duration) (created bool, err error) {
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		Description:                      "Tierflow cases (registered by internal/temporalfull)",
		WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exists):
		return false, nil
	default:
		return false, fmt.Errorf("register namespace %s: %w", namespace, err)
	}
}

// Prepare makes namespace usable for Tierflow on a freshly started server: the
// namespace registered, the search attributes added, and both visible to every
// service (the namespace cache refreshes every few seconds), which it waits for
// until ctx ends.
func Prepare(ctx context.Context, hostPort, namespace string, retention time.Duration) error {
	c, err := Dial(ctx, hostPort, namespace)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := EnsureNamespace(ctx, c, namespace, retention); err != nil {
		return err
	}
	var last error
	for {
		if last = registerAndCheck(ctx, c, namespace); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s not ready: %w (last error: %v)", namespace, ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// registerAndCheck adds the search attributes, then runs a visibility query that
// needs both the namespace and an attribute: the frontend refuses it until its
// namespace cache knows the new namespace.
func registerAndCheck(ctx context.Context, c client.Client, namespace string) error {
	if err := searchattrs.Register(ctx, c, namespace); err != nil {
		return err
	}
	missing, err := searchattrs.Missing(ctx, c, namespace)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("search attributes not visible yet: %v", missing)
	}
	_, err = c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: namespace, Query: "CaseTier >= 0",
	})
	if err != nil {
		return fmt.Errorf("count workflows: %w", err)
	}
	return nil
}
