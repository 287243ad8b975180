package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/pgcluster"
)

// One cluster per test binary; a database migrated once serves as the template of
// every test's fresh database.
var (
	cluster        *pgcluster.Cluster
	migratedSchema string
)

func TestMain(m *testing.M) {
	os.Exit(pgcluster.RunTests(m, func(c *pgcluster.Cluster) {
		cluster = c
		migratedSchema = pgcluster.TestDatabaseName("migrated_template")
		if err := prepareTemplate(c, migratedSchema); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: prepare migrated template database: %v\n", err)
			os.Exit(1)
		}
	}))
}

func prepareTemplate(c *pgcluster.Cluster, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, name); err != nil {
		return err
	}
	s, err := Open(ctx, c.DSN(name), nil)
	if err != nil {
		return err
	}
	defer s.Close() // a template must have no open connections
	return s.Migrate(ctx)
}

// newStore returns a store on a fresh, migrated database of its own.
func newStore(t testing.TB) *Store {
	t.Helper()
	dsn := pgcluster.NewTestDatabaseFrom(t, cluster, migratedSchema)
	s, err := Open(context.Background(), dsn, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

var baseTime = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// testCase is a minimal valid projection of case id.
func testCase(id string, seq int64) tierflow.CaseView {
	return tierflow.CaseView{
		ID: id, Source: "zendesk", ExternalID: id, Seq: seq,
		Status: tierflow.StatusOpen, Tier: 1, StartTier: 1,
		Priority: tierflow.PriorityNormal, Category: "billing", Department: "billing",
		Subject: "Charged twice", Trigger: tierflow.TriggerUnresolved,
		OpenedAt: baseTime, EscalatedAt: baseTime,
	}
}

// testEvent is a valid event of case id.
func testEvent(id string, seq int64, typ tierflow.EventType) tierflow.CaseEvent {
	return tierflow.CaseEvent{
		CaseID: id, Seq: seq, Type: typ, At: baseTime.Add(time.Duration(seq) * time.Minute),
		Actor: tierflow.SystemActor, Tier: 1, Status: tierflow.StatusOpen,
	}
}

func record(t *testing.T, s *Store, view tierflow.CaseView, events ...tierflow.CaseEvent) recordResult {
	t.Helper()
	res, err := s.recordTransition(context.Background(), tierflow.Transition{CaseID: view.ID, Events: events, View: view}, nil)
	require.NoError(t, err)
	return res
}

func ptr[T any](v T) *T { return &v }

func requireCode(t *testing.T, err error, code tierflow.Code) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, tierflow.ErrorCode(err), "error: %v", err)
}
