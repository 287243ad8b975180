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

// healthz: GET /healthz, liveness: the process serves HTTP.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: GET /readyz, readiness: every dependency (Temporal, PostgreSQL) answers.
// 503 with the failing check's name, never its error text (that is logged).
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	results := make(map[string]string, len(s.Ready))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok := true
	for _, c := range s.Ready {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			err := c.Check(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ok = false
				results[c.Name] = "unavailable"
				s.Logger.Warn("readiness check failed", slog.String("request_id", requestID(r.Context())),
					slog.String("check", c.Name), slog.String("error", err.Error()))
				return
			}
			results[c.Name] = "ok"
		})
	}
	wg.Wait()
	if !ok {
		p := problem{Type: "https://tierflow.dev/problems/unavailable", Title: http.StatusText(http.StatusServiceUnavailable),
			Status: http.StatusServiceUnavailable, Detail: "a dependency is unavailable", Checks: results}
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}{"ok", results})
}
