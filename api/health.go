package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// readyTimeout bounds each readiness check.
const readyTimeout = 2 * time.Second

// readyCacheTTL is how long the API's /readyz reuses a check's result: probes from
// every kubelet, load balancer and curious client reach Temporal and PostgreSQL at
// most about once a second.
const readyCacheTTL = time.Second

// healthz: GET /healthz, liveness: the process serves HTTP.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readiness is the result of one round of checks: each check's name and "ok" or
// "unavailable".
type readiness struct {
	ok      bool
	results map[string]string
}

// readyCache holds the last readiness within Deps.ReadyCacheTTL. Its mutex is held
// while checking, so concurrent probes wait for the one round under way and share
// its result instead of starting their own.
type readyCache struct {
	mu   sync.Mutex
	at   time.Time
	last *readiness
}

// readyz: GET /readyz, readiness: every dependency (Temporal, PostgreSQL) answers.
// 503 with the failing check's name, never its error text (that is logged).
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	res := s.readiness(r.Context())
	if !res.ok {
		p := problem{Type: "https://tierflow.dev/problems/unavailable", Title: http.StatusText(http.StatusServiceUnavailable),
			Status: http.StatusServiceUnavailable, Detail: "a dependency is unavailable", Checks: res.results}
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}{"ok", res.results})
}

// readiness answers from the cache while it is fresh, else checks. A failure is
// cached too: a struggling dependency is not checked harder.
func (s *server) readiness(ctx context.Context) *readiness {
	c := &s.ready
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.Now()
	if c.last != nil && s.ReadyCacheTTL > 0 && now.Sub(c.at) < s.ReadyCacheTTL && !now.Before(c.at) {
		return c.last
	}
	// The round serves every waiting probe: one caller hanging up must not fail it.
	res := s.checkDependencies(context.WithoutCancel(ctx))
	c.last, c.at = res, now
	return res
}

// checkDependencies runs every check at once, each bounded by readyTimeout.
func (s *server) checkDependencies(ctx context.Context) *readiness {
	res := &readiness{ok: true, results: make(map[string]string, len(s.Ready))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.Ready {
		wg.Go(func() {
			checkCtx, cancel := context.WithTimeout(ctx, readyTimeout)
			defer cancel()
			err := c.Check(checkCtx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.ok = false
				res.results[c.Name] = "unavailable"
				s.Logger.Warn("readiness check failed", slog.String("request_id", requestID(ctx)),
					slog.String("check", c.Name), slog.String("error", err.Error()))
				return
			}
			res.results[c.Name] = "ok"
		})
	}
	wg.Wait()
	return res
}
