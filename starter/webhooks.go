package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// webhookTolerance is how far a delivery's timestamp may be from now.
const webhookTolerance = 5 * time.Minute

// listenOptions are the flags of "webhooks listen".
type listenOptions struct {
	addr, events, description string
}

func newWebhooksCommand(e *env) *cobra.Command {
	return newGroupCommand("webhooks", "work with webhooks: listen prints the case events delivered to a local receiver",
		newWebhooksListenCommand(e))
}

func newWebhooksListenCommand(e *env) *cobra.Command {
	var o listenOptions
	c := &cobra.Command{
		Use:   "listen",
		Short: "run a local receiver that subscribes, verifies and prints case events",
		Long: `Run a local receiver, subscribe it (integration token), verify every delivery's
Standard Webhooks signature and print one line per event; Ctrl-C deletes the
subscription. In development the API accepts http to loopback; production needs
an https URL reachable from it.`,
		Example: "  tierflow webhooks listen --events case.escalated,case.resolved",
		Args:    positional(),
		RunE:    func(c *cobra.Command, _ []string) error { return runWebhooksListen(c.Context(), e, o) },
	}
	c.Flags().StringVar(&o.addr, "addr", "127.0.0.1:0", "address the receiver listens on (port 0: any free port)")
	c.Flags().StringVar(&o.events, "events", tierflow.WebhookAllEvents, "comma-separated event types to receive (case.* for all)")
	c.Flags().StringVar(&o.description, "description", "", `the subscription's description (default "tierflow webhooks listen on <hostname>")`)
	return c
}

// runWebhooksListen: `tierflow webhooks listen` (see its Long help).
func runWebhooksListen(ctx context.Context, e *env, o listenOptions) error {
	if o.description == "" {
		host, _ := os.Hostname()
		o.description = "tierflow webhooks listen on " + host
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	defer ln.Close()
	hookURL := "http://" + ln.Addr().String() + "/tierflow-webhooks"
	api := e.client()
	sub, err := api.CreateWebhook(ctx, tierflow.NewWebhookSubscription{URL: hookURL,
		Events: strings.Split(o.events, ","), Description: o.description})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", hookURL, err)
	}
	key, err := stdwebhook.ParseSecret(sub.Secret)
	if err != nil {
		return fmt.Errorf("the API returned an unusable secret: %w", err)
	}
	fmt.Fprintf(e.stdout, "listening on %s, subscription %s (%s); Ctrl-C stops and unsubscribes\n", hookURL, sub.ID, o.events)

	l := &listener{out: e.stdout, errOut: e.stderr, key: key, now: e.now}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintf(e.stderr, "tierflow: the receiver stopped: %v\n", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if err := api.DeleteWebhook(shutdownCtx, sub.ID); err != nil {
		return fmt.Errorf("delete subscription %s: %w", sub.ID, err)
	}
	fmt.Fprintf(e.stdout, "unsubscribed %s\n", sub.ID)
	return nil
}

// listener verifies and prints deliveries.
type listener struct {
	mu          sync.Mutex
	out, errOut io.Writer
	key         stdwebhook.Secret
	now         func() time.Time
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	id := r.Header.Get("webhook-id")
	if err := stdwebhook.Verify([]stdwebhook.Secret{l.key}, r.Header, body, webhookTolerance, l.now()); err != nil {
		fmt.Fprintf(l.errOut, "rejected %q: %v\n", id, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p struct {
		Type string `json:"type"`
		Data struct {
			CaseID string `json:"case_id"`
			Seq    int64  `json:"seq"`
			Tier   int    `json:"tier"`
			Status string `json:"status"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		fmt.Fprintf(l.errOut, "rejected %q: not JSON\n", id)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	fmt.Fprintf(l.out, "%-28s %-32s #%-3d tier %d  %s\n", p.Type, p.Data.CaseID, p.Data.Seq, p.Data.Tier, p.Data.Status)
	w.WriteHeader(http.StatusNoContent)
}
