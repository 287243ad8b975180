package activities_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/fakesendgrid"
	"github.com/tierflow/tierflow/internal/pgcluster"
	"github.com/tierflow/tierflow/postgres"
	"github.com/tierflow/tierflow/sendgrid"
)

// One PostgreSQL cluster per test binary; a database migrated once is the template
// of every test's own database.
var (
	cluster  *pgcluster.Cluster
	template string
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(runCrashChild())
	}
	os.Exit(pgcluster.RunTests(m, func(c *pgcluster.Cluster) {
		cluster = c
		template = pgcluster.TestDatabaseName("activities_template")
		if err := migrateTemplate(c, template); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: prepare migrated template database: %v\n", err)
			os.Exit(1)
		}
	}))
}

func migrateTemplate(c *pgcluster.Cluster, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, name); err != nil {
		return err
	}
	s, err := postgres.Open(ctx, c.DSN(name), nil)
	if err != nil {
		return err
	}
	defer s.Close() // a template must have no open connections
	return s.Migrate(ctx)
}

const apiKey = "SG.activities-test"

// surveyKey is the newest survey key (it signs); previousSurveyKey is still in
// the list for links sent before the rotation.
var (
	surveyKey         = []byte("survey-test-key")
	previousSurveyKey = []byte("survey-test-key-before-rotation")
)

// harness is one test's world: its own database, a fake SendGrid, the real Mailer
// pointed at it, and a Temporal activity environment running the activities.
type harness struct {
	t     *testing.T
	dsn   string
	store *postgres.Store
	fake  *fakesendgrid.Server
	acts  *activities.Activities
	env   *testsuite.TestActivityEnvironment
	logs  *syncBuffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dsn := pgcluster.NewTestDatabaseFrom(t, cluster, template)
	store, err := postgres.Open(context.Background(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(store.Close)
	fake := fakesendgrid.New(t, apiKey)
	mailer, err := sendgrid.NewMailer(sendgrid.Config{APIKey: apiKey, BaseURL: fake.URL,
		From: tierflow.Address{Email: "support@example.com", Name: "Example Support"}})
	require.NoError(t, err)
	h := &harness{t: t, dsn: dsn, store: store, fake: fake, logs: &syncBuffer{}}
	h.acts = &activities.Activities{Store: store, Mailer: mailer, SurveyKeys: [][]byte{surveyKey, previousSurveyKey},
		SurveyBaseURL: "https://support.example.com/", StaffLinks: &fakeStaffLinks{},
		Now: time.Now}
	h.env = newActivityEnv(h.acts, h.logs)
	return h
}

func newActivityEnv(acts *activities.Activities, logs *syncBuffer) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(logs, nil))))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return env
}

// notifyCustomer runs NotifyCustomer once, as one activity attempt.
func (h *harness) notifyCustomer(in activities.NotifyCustomerInput) (activities.NotifyResult, error) {
	h.t.Helper()
	return run[activities.NotifyResult](h.t, h.env, h.acts.NotifyCustomer, in)
}

func (h *harness) notifyStaff(in activities.NotifyStaffInput) (activities.NotifyResult, error) {
	h.t.Helper()
	return run[activities.NotifyResult](h.t, h.env, h.acts.NotifyStaff, in)
}

func run[R any](t *testing.T, env *testsuite.TestActivityEnvironment, fn any, in any) (R, error) {
	t.Helper()
	var res R
	val, err := env.ExecuteActivity(fn, in)
	if err != nil {
		return res, err
	}
	if val != nil && val.HasValue() {
		require.NoError(t, val.Get(&res))
	}
	return res, nil
}

// ledger reads the key's row.
func (h *harness) ledger(key string) tierflow.NotificationRecord {
	h.t.Helper()
	rec, err := h.store.Notification(context.Background(), key)
	require.NoError(h.t, err)
	return rec
}

// syncBuffer collects the activities' logs for assertions.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
