package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// call is one API operation.
type call struct {
	op     string // short lowercase context for errors and logs, e.g. "open case"
	method string
	path   string // under /v1, already escaped
	query  url.Values
	body   []byte // JSON; nil for none
	// idempotent says the server applies the call at most once however often it is
	// sent, so it may be retried.
	idempotent bool
	// public marks a route that takes no bearer token: the token is not sent.
	public bool
}

// networkError marks a failure to get an answer at all (refused, reset, timed out,
// body cut short): the request may or may not have reached the server.
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// do runs the call, retrying it when it is idempotent and the failure is transient,
// and decodes a successful answer into out (when out is not nil). It returns the
// final HTTP status (0 when there was no answer).
func (c *Client) do(ctx context.Context, cl call, out any) (int, error) {
	attempts := 1
	if cl.idempotent {
		attempts = c.retry.attempts
	}
	base := c.baseURL
	for attempt := 1; ; attempt++ {
		status, err := c.once(ctx, cl, base, out)
		if err == nil {
			return status, nil
		}
		if ctx.Err() != nil {
			return status, fmt.Errorf("%s: %w", cl.op, errors.Join(ctx.Err(), err))
		}
		if attempt >= attempts || !transient(err) {
			return status, fmt.Errorf("%s: %w", cl.op, err)
		}
		if replicaDown(err) {
			base = c.endpoint(attempt + 1)
		}
		wait := c.retry.wait(attempt, err)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// Waiting would outlive the caller's deadline: give up now with the real cause.
			return status, fmt.Errorf("%s: %w", cl.op, err)
		}
		c.log.WarnContext(ctx, "tierflow api call failed, retrying",
			"op", cl.op, "attempt", attempt, "wait", wait, "error", err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return status, fmt.Errorf("%s: %w", cl.op, errors.Join(ctx.Err(), err))
		case <-timer.C:
		}
	}
}

// transient reports whether a failure may go away by itself: no answer at all,
// the server saying it is overloaded (429) or a dependency is down (503), or a
// proxy in front of it failing to reach it (502, 504).
func transient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Status {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var netErr *networkError
	return errors.As(err, &netErr)
}

// replicaDown reports whether the failure speaks of the replica rather than of
// the whole service, so that another replica is worth trying: no answer, 502,
// 503, 504. (A 429 is the same limit everywhere.)
func replicaDown(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status != http.StatusTooManyRequests
	}
	return true
}

// wait is the pause before retry number attempt: the server's Retry-After when it
// gave one (capped), otherwise an exponential backoff with jitter, capped.
func (p retryPolicy) wait(attempt int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.retryAfter > 0 {
		return min(apiErr.retryAfter, p.maxRetryAfter)
	}
	backoff := p.base
	for i := 1; i < attempt && backoff < p.max; i++ {
		backoff *= 2
	}
	backoff = min(backoff, p.max)
	// Equal jitter: half fixed, half random, so that many clients do not retry in step.
	half := backoff / 2
	return half + rand.N(half+1)
}

// once sends the call one time.
func (c *Client) once(ctx context.Context, cl call, base string, out any) (int, error) {
	u := base + "/v1" + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	if c.token != "" && !cl.public {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.userAgent)
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, &networkError{err}
	}
	defer resp.Body.Close()
	c.log.DebugContext(ctx, "tierflow api call", "op", cl.op, "method", cl.method, "path", cl.path,
		"status", resp.StatusCode, "duration", time.Since(start), "request_id", resp.Header.Get("X-Request-Id"))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, decodeAPIError(resp, time.Now())
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, &networkError{fmt.Errorf("read answer: %w", err)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("decode answer (status %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
