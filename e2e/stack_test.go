package e2e

import (
	"context"
	"testing"
	"time"

	harness "github.com/tierflow/tierflow/internal/stack"
)

// surveyKey signs the survey links of the test's stack (worker and API share it).
const surveyKey = "e2e-survey-key-only-for-this-test"

// stack is the running product (internal/stack): PostgreSQL, a Temporal dev server
// with its UI, the worker and the API, all started by the test and stopped when it
// ends.
type stack struct {
	*harness.Stack
}

// startStack starts the product; when the test fails, the cleanup prints the
// children's logs before stopping them.
func startStack(t *testing.T) *stack {
	t.Helper()
	return startStackWithEnv(t, nil)
}

// startStackWithEnv is startStack with env added to the worker's and the API's
// environment (harness.Options.Env).
func startStackWithEnv(t *testing.T, env map[string]string) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := harness.Start(ctx, harness.Options{UI: true, SurveyKey: surveyKey, Logf: t.Logf, Env: env})
	if err != nil {
		t.Fatalf("start the product: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Logf("stop the product: %v", err)
		}
	})
	t.Cleanup(func() { dumpLogsOnFailure(t, s) }) // runs before the children stop
	return &stack{Stack: s}
}

// dumpLogsOnFailure prints the tail of every child's output when the test failed.
func dumpLogsOnFailure(t *testing.T, s *harness.Stack) {
	if !t.Failed() {
		return
	}
	for _, p := range []*harness.Process{s.Worker, s.API} {
		if p != nil {
			t.Logf("----- %s output (tail) -----\n%s", p.Name, p.Tail(150))
		}
	}
}
