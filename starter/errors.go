package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow/client"
)

// errUsagePrinted means the usage was already printed: exit 2.
var errUsagePrinted = errors.New("usage printed")

// usageError is a mistake on the command line (exit 2).
type usageError struct {
	command string // "tierflow decide"
	msg     string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(c *cobra.Command, format string, args ...any) error {
	return &usageError{command: c.CommandPath(), msg: fmt.Sprintf(format, args...)}
}

// caseError names the case an API error is about, so that a 404 reads
// "case zendesk-1 not found".
type caseError struct {
	caseID string
	err    error
}

func (e *caseError) Error() string { return e.err.Error() }
func (e *caseError) Unwrap() error { return e.err }

func aboutCase(caseID string, err error) error {
	if err == nil {
		return nil
	}
	return &caseError{caseID: caseID, err: err}
}

// report prints err as readable lines on stderr and returns the exit status.
func report(e *env, err error) int {
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsagePrinted):
		return exitUsage
	case errors.As(err, &usage):
		fmt.Fprintf(e.stderr, "%s: %s\nRun '%s --help' for usage.\n", usage.command, usage.msg, usage.command)
		return exitUsage
	}
	for _, line := range describe(e, err) {
		fmt.Fprintln(e.stderr, line)
	}
	return exitError
}

// describe turns an error into the lines a person reads: the first one prefixed
// "tierflow: ", field errors indented below it.
func describe(e *env, err error) []string {
	return prefixFirst(explain(e, err))
}

func prefixFirst(lines []string) []string {
	if len(lines) > 0 {
		lines[0] = "tierflow: " + lines[0]
	}
	return lines
}

// explain says what went wrong without the "tierflow: " prefix.
func explain(e *env, err error) []string {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		var ce *caseError
		caseID := ""
		if errors.As(err, &ce) {
			caseID = ce.caseID
		}
		return explainAPIError(apiErr, caseID)
	}
	if errors.Is(err, context.Canceled) {
		return []string{"interrupted"}
	}
	if _, ok := errors.AsType[*fs.PathError](err); ok {
		// A file the command line named (its syscall.Errno would pass for a
		// net.Error below).
		return []string{err.Error()}
	}
	var urlErr *url.Error
	var netErr net.Error
	if errors.As(err, &urlErr) || errors.As(err, &netErr) {
		cause := err
		if urlErr != nil {
			cause = urlErr.Err
		}
		return []string{fmt.Sprintf("cannot reach the API at %s: %v", e.api, cause)}
	}
	return []string{err.Error()}
}

func explainAPIError(err *client.APIError, caseID string) []string {
	what := err.Detail
	if what == "" {
		what = strings.ToLower(err.Title)
	}
	if what == "" {
		what = strings.ToLower(http.StatusText(err.Status))
	}
	switch err.Status {
	case http.StatusNotFound:
		if caseID != "" {
			what = "case " + caseID + " not found"
		}
	case http.StatusUnauthorized:
		what = "not authenticated: " + what + "; pass --token or set TIERFLOW_TOKEN"
	case http.StatusForbidden:
		what = "not allowed: " + what
	}
	first := fmt.Sprintf("%s (%d)", what, err.Status)
	if err.Status >= 500 && err.RequestID != "" {
		first = fmt.Sprintf("%s (%d, request %s)", what, err.Status, err.RequestID)
	}
	lines := []string{first}
	for _, f := range err.Fields {
		lines = append(lines, fmt.Sprintf("  %s: %s", f.Field, f.Message))
	}
	return lines
}
