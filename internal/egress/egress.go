// Package egress guards the requests Tierflow sends to addresses its users give it
// (webhook URLs) against server-side request forgery. One rule, CheckIP, is applied
// twice: to the URL when it is accepted (CheckURL, which resolves its host) and to
// every connection when it is dialled (Dialer's Control), so a name that resolves
// to a public address at subscription and to a private one later (DNS rebinding)
// is still refused.
//
// Production: https only; no loopback, private (RFC 1918, fc00::/7), link-local
// (169.254/16, fe80::/10, where cloud metadata lives), unspecified, multicast,
// CGNAT (100.64/10), NAT64 (64:ff9b::/96), 6to4 (2002::/16, which embed IPv4
// addresses), documentation, benchmarking or otherwise reserved address.
//
// A refusal (*Refusal) tells whoever gave the URL only the rule it broke, never
// which address a name resolved to nor whether an internal name exists: its
// Detail is for the server's log.
// Development: the same, except that http and https are allowed to loopback
// (a receiver on this machine); http elsewhere is still refused.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is the cause of every refusal, matched with errors.Is.
var ErrRefused = errors.New("refused target")

// Refusal is a refused target. Error is safe to show the subscriber: the rule,
// never an address or a host; Detail names them, for the server's log only.
type Refusal struct {
	Reason string
	Detail string
}

func (r *Refusal) Error() string { return ErrRefused.Error() + ": " + r.Reason }

// Is makes every Refusal match ErrRefused.
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// Detail returns what a refusal keeps for the log (err's text for another error).
func Detail(err error) string {
	var r *Refusal
	if errors.As(err, &r) && r.Detail != "" {
		return r.Reason + " (" + r.Detail + ")"
	}
	return err.Error()
}

// Reasons a subscriber may read.
const (
	notPublic      = "the URL's host is not a public address"
	doesNotResolve = "the URL's host does not resolve"
)

func refuse(reason, detailFormat string, args ...any) error {
	return &Refusal{Reason: reason, Detail: fmt.Sprintf(detailFormat, args...)}
}

// Mode says which rule applies.
type Mode struct {
	// Production refuses loopback and http entirely.
	Production bool
}

// reserved lists the blocks no webhook may reach in any mode (loopback is
// handled on its own: development allows it).
var reserved = mustPrefixes(
	"0.0.0.0/8",       // "this network", unspecified
	"10.0.0.0/8",      // RFC 1918
	"100.64.0.0/10",   // CGNAT (RFC 6598)
	"169.254.0.0/16",  // link-local, cloud metadata (169.254.169.254)
	"172.16.0.0/12",   // RFC 1918
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation
	"192.168.0.0/16",  // RFC 1918
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation
	"203.0.113.0/24",  // documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, broadcast
	"::/128",          // unspecified
	"64:ff9b::/96",    // NAT64 (RFC 6052): embeds an IPv4 address, private ones too
	"64:ff9b:1::/48",  // local-use NAT64
	"2002::/16",       // 6to4: embeds an IPv4 address
	"100::/64",        // discard
	"2001:db8::/32",   // documentation
	"fc00::/7",        // unique local (fd00:ec2::254 is a metadata address)
	"fe80::/10",       // link-local
	"ff00::/8",        // multicast
)

func mustPrefixes(cidrs ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}

// CheckIP refuses an address outside what the mode allows.
func (m Mode) CheckIP(ip netip.Addr) error {
	ip = ip.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if !ip.IsValid() {
		return fmt.Errorf("%w: not an address", ErrRefused)
	}
	if ip.IsLoopback() {
		if m.Production {
			return refuse(notPublic, "%s is a loopback address", ip)
		}
		return nil
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return refuse(notPublic, "%s is in the reserved block %s", ip, p)
		}
	}
	return nil
}

// Resolver finds a host's addresses (net.DefaultResolver; tests pass their own).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL refuses a URL the mode does not allow: a scheme other than https (http
// only to loopback in development), credentials in it, or a host that resolves to
// any refused address. The error says why, in words safe to show the subscriber
// (Detail adds the address or host, for the log).
func (m Mode) CheckURL(ctx context.Context, raw string, r Resolver) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%w: not an absolute URL", ErrRefused)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL may not hold credentials", ErrRefused)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%w: the URL may not have a fragment", ErrRefused)
	}
	host := u.Hostname()
	addrs, err := m.resolve(ctx, host, r)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "https":
	case "http":
		if m.Production {
			return fmt.Errorf("%w: only https URLs are allowed", ErrRefused)
		}
		for _, a := range addrs {
			if !a.Unmap().IsLoopback() {
				return fmt.Errorf("%w: http is allowed only to loopback in development; use https", ErrRefused)
			}
		}
	default:
		return fmt.Errorf("%w: the scheme must be https", ErrRefused)
	}
	for _, a := range addrs {
		if err := m.CheckIP(a); err != nil {
			return err
		}
	}
	return nil
}

func (m Mode) resolve(ctx context.Context, host string, r Resolver) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		if m.Production {
			return nil, refuse(notPublic, "%s is a loopback name", host)
		}
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no address")
	}
	if err != nil {
		return nil, refuse(doesNotResolve, "the host %s does not resolve: %v", host, err)
	}
	return addrs, nil
}

// Control is a net.Dialer Control function that refuses connections to
// addresses the mode does not allow: it sees the address actually dialled,
// after name resolution.
func (m Mode) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refuse("the dialled address is not an IP address", "cannot parse the dialled address %q", address)
	}
	return m.CheckIP(ap.Addr())
}

// Dialer returns a dialer that applies Control to every connection.
func (m Mode) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: m.Control}
}
