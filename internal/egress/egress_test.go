package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeResolver answers every name with its addresses.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func TestCheckURL(t *testing.T) {
	r := fakeResolver{
		"hooks.example.com":  addrs("93.184.215.14"),
		"rebind.example.com": addrs("93.184.215.14", "10.0.0.7"), // one private answer is enough to refuse
		"internal.example":   addrs("192.168.1.20"),
		"localhost":          addrs("127.0.0.1", "::1"),
	}
	for _, tc := range []struct {
		url             string
		production, dev bool // allowed in each mode
	}{
		{"https://hooks.example.com/tierflow", true, true},
		{"https://93.184.215.14:8443/x", true, true},
		{"http://hooks.example.com/x", false, false},
		{"http://127.0.0.1:8080/hook", false, true},
		{"https://127.0.0.1/hook", false, true},
		{"http://localhost:9000/hook", false, true},
		{"http://[::1]:9000/hook", false, true},
		{"https://10.0.0.1/x", false, false},
		{"https://172.16.5.4/x", false, false},
		{"https://192.168.0.1/x", false, false},
		{"https://[fd00:ec2::254]/x", false, false},
		{"https://169.254.169.254/latest/meta-data", false, false},
		{"https://[fe80::1]/x", false, false},
		{"https://100.64.0.1/x", false, false},
		{"https://0.0.0.0/x", false, false},
		{"https://[::]/x", false, false},
		{"https://224.0.0.1/x", false, false},
		{"https://[::ffff:10.0.0.1]/x", false, false},
		{"https://[64:ff9b::a00:1]/x", false, false}, // NAT64 of 10.0.0.1
		{"https://[2002:a00:1::1]/x", false, false},  // 6to4 of 10.0.0.1
		{"https://internal.example/x", false, false},
		{"https://rebind.example.com/x", false, false},
		{"https://nowhere.example/x", false, false},
		{"https://user:pw@hooks.example.com/x", false, false},
		{"ftp://hooks.example.com/x", false, false},
		{"hooks.example.com/x", false, false},
	} {
		for _, production := range []bool{true, false} {
			want := tc.dev
			if production {
				want = tc.production
			}
			err := Mode{Production: production}.CheckURL(context.Background(), tc.url, r)
			if want {
				assert.NoError(t, err, "%s (production %v)", tc.url, production)
			} else {
				assert.ErrorIs(t, err, ErrRefused, "%s (production %v)", tc.url, production)
			}
		}
	}
}

// The dialer refuses what the URL check would, on the address actually dialled:
// a name that resolves somewhere private by the time of the request is caught.
func TestDialerRefusesLoopbackInProduction(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	client := func(m Mode) *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: m.Dialer(2 * time.Second).DialContext}}
	}
	resp, err := client(Mode{}).Get(srv.URL)
	require.NoError(t, err, "development reaches loopback")
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)

	_, err = client(Mode{Production: true}).Get(srv.URL)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrRefused)

	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr, "refused at dial time, before any byte is sent")
}

// A refusal tells the subscriber the rule only: which address a name resolved to,
// or that an internal name exists, is for the log (Detail).
func TestRefusalNamesNoInternalAddress(t *testing.T) {
	r := fakeResolver{"db.example": addrs("10.2.3.4")}
	for _, tc := range []struct{ url, says, hidden string }{
		{"https://10.2.3.4/x", "refused target: the URL's host is not a public address", "10.2.3.4"},
		{"https://db.example/x", "refused target: the URL's host is not a public address", "10.2.3.4"},
		{"https://db.internal/x", "refused target: the URL's host does not resolve", "db.internal"},
		{"https://127.0.0.1/x", "refused target: the URL's host is not a public address", "127.0.0.1"},
	} {
		err := Mode{Production: true}.CheckURL(context.Background(), tc.url, r)
		require.ErrorIs(t, err, ErrRefused, tc.url)
		assert.Equal(t, tc.says, err.Error(), tc.url)
		assert.Contains(t, Detail(err), tc.hidden, "the log keeps the detail of %s", tc.url)
	}
}
