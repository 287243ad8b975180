package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The kinds of call take turns, so that each meets the same conditions; the
// warm-up calls come first and are not timed.
func TestTimeInTurnsInterleavesTheCalls(t *testing.T) {
	var calls []string
	record := func(name string) func(context.Context, int) error {
		return func(_ context.Context, i int) error {
			calls = append(calls, fmt.Sprintf("%s%d", name, i))
			return nil
		}
	}
	samples, err := timeInTurns(context.Background(), 1, 3, []turn{{"a", record("a")}, {"b", record("b")}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a3", "b3", "a0", "b0", "a1", "b1", "a2", "b2"}, calls)
	require.Len(t, samples, 2)
	assert.Len(t, samples[0], 3)
	assert.Len(t, samples[1], 3)
}

func TestTimeInTurnsNamesTheFailingCall(t *testing.T) {
	ok := func(context.Context, int) error { return nil }
	fail := func(_ context.Context, i int) error {
		if i == 1 {
			return errors.New("boom")
		}
		return nil
	}
	_, err := timeInTurns(context.Background(), 0, 3, []turn{{"decisions", ok}, {"raw updates", fail}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "raw updates: boom")
}
