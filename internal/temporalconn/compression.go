// Package temporalconn holds how Tierflow uses its Temporal connections beyond
// the SDK's envconfig (TEMPORAL_*): the settings the worker and the API share,
// and the bench's baselines with them.
package temporalconn

import (
	"fmt"
	"os"
	"strings"

	"go.temporal.io/sdk/client"
)

// CompressionEnv names the gRPC compression of requests to Temporal: "none"
// (the default) or "gzip".
const CompressionEnv = "TIERFLOW_TEMPORAL_GRPC_COMPRESSION"

// Compression reads CompressionEnv. The SDK compresses every request with gzip
// unless told otherwise, and the server answers a compressed request with a
// compressed response: workflow task polls, their histories, Updates. Tierflow's
// worker and API run next to the Temporal frontend (the same cluster or
// network), where the bandwidth saved is not worth the CPU spent on both sides
// (issue 10: measured in the bench). A deployment that reaches Temporal over a
// slow or metered link (Temporal Cloud across regions) sets "gzip".
func Compression(getenv func(string) string) (client.GrpcCompression, error) {
	switch v := strings.ToLower(strings.TrimSpace(getenv(CompressionEnv))); v {
	case "", "none":
		return &client.GrpcCompressionNone{}, nil
	case "gzip":
		return &client.GrpcCompressionGzip{}, nil
	default:
		return nil, fmt.Errorf("%s=%q: want none or gzip", CompressionEnv, v)
	}
}

// HarnessCompression is the compression of the test and bench harnesses' own
// clients (the bench's baselines among them): the product's, as this process's
// environment sets it, so a baseline measures Temporal as Tierflow reaches it.
// An invalid value falls back to the default; the product refuses it at start.
func HarnessCompression() client.GrpcCompression {
	c, err := Compression(os.Getenv)
	if err != nil {
		return &client.GrpcCompressionNone{}
	}
	return c
}
