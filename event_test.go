package tierflow

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEventTypesAreDistinctAndValid(t *testing.T) {
	seen := map[EventType]bool{}
	for _, e := range EventTypes {
		assert.True(t, e.Valid(), e)
		assert.False(t, seen[e], "%s listed twice", e)
		seen[e] = true
	}
	assert.False(t, EventType("").Valid())
	assert.False(t, EventType("escalate").Valid())
}

func TestDetailKeysAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range DetailKeys {
		assert.NotEmpty(t, k)
		assert.False(t, seen[k], "%s listed twice", k)
		seen[k] = true
	}
}
