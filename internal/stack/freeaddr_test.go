package stack

import (
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/freeport"
)

// FreeAddr hands out ports below the ephemeral range (which outgoing connections
// draw from) and that can be bound.
func TestFreeAddrIsBelowTheEphemeralRange(t *testing.T) {
	lo := freeport.EphemeralLow()
	for range 20 {
		addr, err := FreeAddr()
		require.NoError(t, err)
		_, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		p, err := strconv.Atoi(port)
		require.NoError(t, err)
		if lo > freeport.Min {
			assert.GreaterOrEqual(t, p, freeport.Min)
			assert.Less(t, p, lo, "below the ephemeral range starting at %d", lo)
		}
		ln, err := net.Listen("tcp", addr)
		require.NoError(t, err, "bindable")
		ln.Close()
	}
}

// A start that lost its port to another process is tried again, at most three
// times; any other failure is returned at once.
func TestRetryBindRetriesOnlyATakenPort(t *testing.T) {
	n := 0
	err := retryBind(func() error { n++; return errors.New("listen tcp 127.0.0.1:1: bind: address already in use") })
	assert.Error(t, err)
	assert.Equal(t, 3, n)
	n = 0
	assert.NoError(t, retryBind(func() error {
		n++
		if n == 1 {
			return errors.New("bind: address already in use")
		}
		return nil
	}))
	assert.Equal(t, 2, n)
	n = 0
	assert.Error(t, retryBind(func() error { n++; return errors.New("exit status 1") }))
	assert.Equal(t, 1, n)
}
