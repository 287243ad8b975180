package activities_test

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/fakesendgrid"
)

// countingMetrics records counter increments by name and tags.
type countingMetrics struct {
	client.MetricsHandler
	tags map[string]string
	mu   *sync.Mutex
	seen *[]counted
}

type counted struct {
	name string
	tags map[string]string
	n    int64
}

func newCountingMetrics() countingMetrics {
	return countingMetrics{MetricsHandler: client.MetricsNopHandler, tags: map[string]string{}, mu: &sync.Mutex{}, seen: &[]counted{}}
}

func (m countingMetrics) WithTags(tags map[string]string) client.MetricsHandler {
	merged := map[string]string{}
	for k, v := range m.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	m.tags = merged
	return m
}

func (m countingMetrics) Counter(name string) client.MetricsCounter {
	return counterFunc(func(n int64) {
		m.mu.Lock()
		defer m.mu.Unlock()
		*m.seen = append(*m.seen, counted{name: name, tags: m.tags, n: n})
	})
}

type counterFunc func(int64)

func (f counterFunc) Inc(n int64) { f(n) }

func (m countingMetrics) total(name string) (n int64, tags []map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range *m.seen {
		if c.name == name {
			n += c.n
			tags = append(tags, c.tags)
		}
	}
	return n, tags
}

// An unconfirmed message is not only logged: the ledger keeps it in a state of its
// own (for a person to check), the activity counts it in a metric, and returns the
// state for the workflow to record on the case.
func TestUnconfirmedIsRecordedAndCounted(t *testing.T) {
	h := newHarness(t)
	metrics := newCountingMetrics()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(h.logs, nil))))
	suite.SetMetricsHandler(metrics)
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(h.acts)
	h.fake.FailNext(1, fakesendgrid.Fault{Status: 502})
	in := escalatedInput("zendesk-4711/42/escalated")

	res, err := run[activities.NotifyResult](t, env, h.acts.NotifyCustomer, in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	rec := h.ledger(in.Key)
	assert.Equal(t, tierflow.NotificationUnconfirmed, rec.State, "the ledger says unconfirmed, not failed")
	assert.Equal(t, res.Error, rec.Error)

	n, tags := metrics.total(activities.MetricNotificationsUnconfirmed)
	assert.Equal(t, int64(1), n, "counted once")
	if assert.Len(t, tags, 1) {
		assert.Equal(t, "escalated", tags[0]["kind"])
		assert.Equal(t, "customer", tags[0]["audience"])
	}

	// A later attempt finds it unconfirmed and says so again, without counting it twice.
	res, err = run[activities.NotifyResult](t, env, h.acts.NotifyCustomer, in)
	require.NoError(t, err)
	assert.Equal(t, activities.StateUnconfirmed, res.State)
	assert.Equal(t, rec.Error, res.Error)
	n, _ = metrics.total(activities.MetricNotificationsUnconfirmed)
	assert.Equal(t, int64(1), n)
	assert.Equal(t, 1, h.fake.Requests())
}
