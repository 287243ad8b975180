package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/simulate"
)

func TestReadCasesPagesTheWindowWithEachCasesLog(t *testing.T) {
	s := newStore(t)
	put := func(id, source string, opened time.Duration) {
		v := testCase(id, 2)
		v.Source, v.OpenedAt = source, baseTime.Add(opened)
		e1, e2 := testEvent(id, 1, tierflow.EventOpened), testEvent(id, 2, tierflow.EventAcknowledged)
		e2.Details = map[string]string{tierflow.DetailDecisionID: "d-" + id}
		record(t, s, v, e1, e2)
	}
	put("zendesk-1", "zendesk", 0)
	put("zendesk-2", "zendesk", time.Hour)
	put("hubspot-3", "hubspot", time.Hour) // same instant: ordered by id
	put("zendesk-4", "zendesk", 48*time.Hour)
	w := simulate.Window{From: baseTime, To: baseTime.Add(24 * time.Hour)}
	ctx := context.Background()

	first, err := s.ReadCases(ctx, w, nil, 2)
	require.NoError(t, err)
	require.Len(t, first.Cases, 2)
	assert.Equal(t, "zendesk-1", first.Cases[0].CaseID)
	assert.Equal(t, "hubspot-3", first.Cases[1].CaseID)
	require.NotNil(t, first.Next)
	c := first.Cases[0]
	assert.Equal(t, tierflow.PriorityNormal, c.Priority)
	assert.Equal(t, "zendesk-1", c.ExternalID)
	assert.Equal(t, baseTime, c.OpenedAt)
	require.Len(t, c.Events, 2)
	assert.Equal(t, tierflow.EventOpened, c.Events[0].Type)
	assert.Equal(t, "d-zendesk-1", c.Events[1].Details[tierflow.DetailDecisionID])

	second, err := s.ReadCases(ctx, w, first.Next, 2)
	require.NoError(t, err)
	require.Len(t, second.Cases, 1, "zendesk-4 is outside [from, to)")
	assert.Equal(t, "zendesk-2", second.Cases[0].CaseID)
	assert.Nil(t, second.Next)

	w.Source = "hubspot"
	only, err := s.ReadCases(ctx, w, nil, 100)
	require.NoError(t, err)
	require.Len(t, only.Cases, 1)
	assert.Equal(t, "hubspot-3", only.Cases[0].CaseID)
}
