package main

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"peer", "192.0.2.1:1000", "", "192.0.2.1"},
		{"untrusted peer ignores the header", "192.0.2.1:1000", "198.51.100.7", "192.0.2.1"},
		{"trusted peer, one hop", "10.0.0.2:1000", "198.51.100.7", "198.51.100.7"},
		{"spoofed entries left of the client", "10.0.0.2:1000", "1.1.1.1, 198.51.100.7, 10.1.1.1", "198.51.100.7"},
		{"garbage stops the walk", "10.0.0.2:1000", "198.51.100.7, not-an-ip", "10.0.0.2"},
		{"only proxies", "10.0.0.2:1000", "10.3.3.3", "10.3.3.3"},
		{"IPv4-mapped peer", "[::ffff:192.0.2.1]:1000", "", "192.0.2.1"},
		{"IPv6 via a trusted v6 proxy", "[fd00::1]:1000", "2001:db8::5", "2001:db8::5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			assert.Equal(t, tc.want, clientAddr(req, trusted).String())
		})
	}
	proxies, err := parseTrustedProxies(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8")
	require.NoError(t, err)
	assert.Equal(t, "[10.0.0.0/8 192.0.2.7/32 fd00::/8]", fmt.Sprint(proxies))
	_, err = parseTrustedProxies("10.0.0.0/8, proxy.internal")
	assert.ErrorContains(t, err, "proxy.internal")
}
