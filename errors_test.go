package tierflow

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fieldsOf returns the field names of an invalid *Error.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var e *Error
	require.True(t, errors.As(err, &e), "want *Error, got %v", err)
	assert.Equal(t, CodeInvalid, e.Code)
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return names
}
