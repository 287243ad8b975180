package temporalconn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

func TestCompressionDefaultsToNoneAndRefusesUnknownValues(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == CompressionEnv {
				return v
			}
			return ""
		}
	}
	for value, want := range map[string]client.GrpcCompression{
		"": &client.GrpcCompressionNone{}, "none": &client.GrpcCompressionNone{},
		" GZIP ": &client.GrpcCompressionGzip{}, "gzip": &client.GrpcCompressionGzip{},
	} {
		got, err := Compression(env(value))
		require.NoError(t, err, value)
		assert.IsType(t, want, got, value)
	}
	_, err := Compression(env("zstd"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), CompressionEnv+`="zstd": want none or gzip`)
}
