package main

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientKey names the client of r for the per-address rate limits.
//
// The client is the peer of the connection (RemoteAddr), unless that peer is one of
// the trusted proxies: then X-Forwarded-For is read from the right (each proxy
// appends the address it saw), trusted proxies are skipped, and the first other
// address is the client. Entries left of it were written by the client and are
// never believed. Without trusted proxies the header is ignored, so a client cannot
// choose its own bucket by sending one.
//
// An IPv6 client is keyed by its /64, the block one subscriber usually holds, so an
// address-hopping client gets one bucket, not 2^64.
func (s *server) clientKey(r *http.Request) string {
	addr := clientAddr(r, s.RateLimits.TrustedProxies)
	if !addr.IsValid() {
		return "unknown"
	}
	if addr.Is6() {
		prefix, _ := addr.Prefix(64)
		return prefix.String()
	}
	return addr.String()
}

// clientAddr is the client's address as clientKey describes; invalid when the peer
// address cannot be parsed.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	client := peer
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := parseAddr(strings.TrimSpace(hops[i]))
		if !hop.IsValid() {
			break // garbage from the client's side: the last trusted hop is the best we know
		}
		client = hop
		if !isTrusted(hop, trusted) {
			break
		}
	}
	return client
}

// parseAddr reads "host:port", "[v6]:port" or a bare address; IPv4-mapped IPv6
// addresses become IPv4 and zones are dropped.
func parseAddr(s string) netip.Addr {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap().WithZone("")
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseTrustedProxies reads a comma-separated list of CIDR blocks or single
// addresses (TIERFLOW_TRUSTED_PROXIES).
func parseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		addr, err := netip.ParseAddr(item)
		if err != nil {
			return nil, &net.ParseError{Type: "CIDR block or IP address", Text: item}
		}
		addr = addr.Unmap()
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}
