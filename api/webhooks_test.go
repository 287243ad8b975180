package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/egress"
)

// fakeWebhooks is an in-memory tierflow.WebhookStore that scopes by owner as the
// PostgreSQL one does.
type fakeWebhooks struct {
	mu         sync.Mutex
	subs       map[string]tierflow.WebhookSubscription
	secrets    map[string]string
	redelivers []tierflow.Redelivery
	n          int
}

func newFakeWebhooks() *fakeWebhooks {
	return &fakeWebhooks{subs: map[string]tierflow.WebhookSubscription{}, secrets: map[string]string{}}
}

func (f *fakeWebhooks) owned(ownerID, id string) (tierflow.WebhookSubscription, error) {
	sub, ok := f.subs[id]
	if !ok || ownerID != "" && sub.OwnerID != ownerID {
		return tierflow.WebhookSubscription{}, tierflow.Errorf(tierflow.CodeNotFound, "no webhook subscription %s", id)
	}
	return sub, nil
}

func (f *fakeWebhooks) CreateSubscription(_ context.Context, owner tierflow.Principal, n tierflow.NewWebhookSubscription, secret string) (tierflow.WebhookSubscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	active := 0
	for _, s := range f.subs {
		if s.OwnerID == owner.ID && s.Status == tierflow.WebhookActive {
			active++
		}
	}
	if active >= tierflow.MaxActiveWebhookSubscriptions {
		return tierflow.WebhookSubscription{}, tierflow.TooManyWebhookSubscriptions()
	}
	f.n++
	sub := tierflow.WebhookSubscription{ID: "wh_test" + strconv.Itoa(1000+f.n), OwnerID: owner.ID, URL: n.URL, Events: n.Events,
		Description: n.Description, Status: tierflow.WebhookActive, CreatedAt: testNow, UpdatedAt: testNow}
	f.subs[sub.ID], f.secrets[sub.ID] = sub, secret
	return sub, nil
}

func (f *fakeWebhooks) ListSubscriptions(_ context.Context, ownerID string) ([]tierflow.WebhookSubscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []tierflow.WebhookSubscription
	for _, s := range f.subs {
		if ownerID == "" || s.OwnerID == ownerID {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b tierflow.WebhookSubscription) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (f *fakeWebhooks) GetSubscription(_ context.Context, ownerID, id string) (tierflow.WebhookSubscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.owned(ownerID, id)
}

func (f *fakeWebhooks) DeleteSubscription(_ context.Context, ownerID, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.owned(ownerID, id); err != nil {
		return err
	}
	delete(f.subs, id)
	return nil
}

func (f *fakeWebhooks) RotateSecret(_ context.Context, ownerID, id, secret string) (tierflow.WebhookSubscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sub, err := f.owned(ownerID, id)
	if err != nil {
		return sub, err
	}
	expires := testNow.Add(tierflow.WebhookSecretOverlap)
	sub.PreviousSecretExpiresAt = &expires
	f.subs[id], f.secrets[id] = sub, secret
	return sub, nil
}

func (f *fakeWebhooks) ListDeliveries(_ context.Context, ownerID, id string, _ tierflow.DeliveryFilter) ([]tierflow.WebhookDelivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.owned(ownerID, id); err != nil {
		return nil, err
	}
	return []tierflow.WebhookDelivery{{SubscriptionID: id, CaseID: "zendesk-1", Seq: 1, EventType: "case.opened",
		WebhookID: "msg_1", Status: tierflow.DeliveryFailing, Attempts: 3, LastStatus: 503, LastError: "503", CreatedAt: testNow}}, nil
}

func (f *fakeWebhooks) Redeliver(_ context.Context, ownerID, id string, r tierflow.Redelivery) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.owned(ownerID, id); err != nil {
		return 0, err
	}
	f.redelivers = append(f.redelivers, r)
	return 2, nil
}

// The dev tokens these tests use, and a second integration token, of another CRM.
const (
	tokIntegration   = "dev-integration"
	tokAgent         = "dev-agent"
	tokSupervisor    = "dev-supervisor"
	tokViewer        = "dev-viewer"
	otherIntegration = "other-integration"
)

func newWebhookEnv(t *testing.T, mode egress.Mode) (*testEnv, *fakeWebhooks) {
	t.Helper()
	env := newTestEnv(t)
	hooks := newFakeWebhooks()
	env.srv.Webhooks, env.srv.Egress = hooks, mode
	env.srv.Auth = NewAuthenticator(append(DevTokens(), TokenEntry{TokenSHA256: HashToken(otherIntegration),
		ID: "crm:other", Role: tierflow.RoleIntegration}))
	env.handler = env.srv.routes()
	return env, hooks
}

func subscribeJSON(url string) string {
	return `{"url": "` + url + `", "events": ["case.*"], "description": "our CRM"}`
}

func (e *testEnv) subscribe(t *testing.T, token string) webhookJSON {
	t.Helper()
	rec := e.do(request{method: "POST", path: "/v1/webhooks", token: token, body: subscribeJSON("https://93.184.215.14/hooks")})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var out webhookJSON
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	return out
}

func TestWebhookSecretIsShownOnce(t *testing.T) {
	env, hooks := newWebhookEnv(t, egress.Mode{Production: true})
	created := env.subscribe(t, tokIntegration)
	assert.True(t, strings.HasPrefix(created.Secret, "whsec_"))
	assert.Equal(t, hooks.secrets[created.ID], created.Secret, "the stored secret is the one shown")
	assert.Equal(t, "dev:integration", created.OwnerID)

	rec := env.do(request{method: "GET", path: "/v1/webhooks/" + created.ID, token: tokIntegration})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.NotContains(t, rec.Body.String(), created.Secret)
	assert.NotContains(t, rec.Body.String(), `"secret"`)

	rec = env.do(request{method: "POST", path: "/v1/webhooks/" + created.ID + "/rotate-secret", token: tokIntegration})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var rotated struct{ Secret string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rotated))
	assert.NotEqual(t, created.Secret, rotated.Secret)
	assert.Equal(t, hooks.secrets[created.ID], rotated.Secret)
}

// Another integration neither sees, changes nor deletes my subscription; an
// operator reads it and redelivers, but cannot delete it or rotate its secret.
func TestWebhookAuthorization(t *testing.T) {
	env, hooks := newWebhookEnv(t, egress.Mode{Production: true})
	mine := env.subscribe(t, tokIntegration)
	theirs := env.subscribe(t, otherIntegration)
	path := "/v1/webhooks/" + mine.ID

	for _, r := range []request{
		{method: "GET", path: path},
		{method: "DELETE", path: path},
		{method: "POST", path: path + "/rotate-secret"},
		{method: "GET", path: path + "/deliveries"},
		{method: "POST", path: path + "/redeliver", body: `{"from_seq": 1}`},
	} {
		r.token = otherIntegration
		problemOf(t, env.do(r), http.StatusNotFound)
	}
	rec := env.do(request{method: "GET", path: "/v1/webhooks", token: otherIntegration})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), theirs.ID)
	assert.NotContains(t, rec.Body.String(), mine.ID)
	assert.Contains(t, hooks.subs, mine.ID, "still there")

	for _, tok := range []string{tokAgent, tokViewer} {
		problemOf(t, env.do(request{method: "GET", path: "/v1/webhooks", token: tok}), http.StatusForbidden)
	}
	problemOf(t, env.do(request{method: "POST", path: "/v1/webhooks", token: tokSupervisor, body: subscribeJSON("https://93.184.215.14/x")}), http.StatusForbidden)
	problemOf(t, env.do(request{method: "DELETE", path: path, token: tokSupervisor}), http.StatusForbidden)
	problemOf(t, env.do(request{method: "POST", path: path + "/rotate-secret", token: tokSupervisor}), http.StatusForbidden)

	rec = env.do(request{method: "GET", path: "/v1/webhooks", token: tokSupervisor})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), mine.ID)
	assert.Contains(t, rec.Body.String(), theirs.ID)
	rec = env.do(request{method: "GET", path: path + "/deliveries?status=failing", token: tokSupervisor})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"last_status":503`)
	rec = env.do(request{method: "POST", path: path + "/redeliver", token: tokSupervisor, body: `{"from_seq": 3, "case_id": "zendesk-1"}`})
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.Equal(t, []tierflow.Redelivery{{FromSeq: 3, CaseID: "zendesk-1"}}, hooks.redelivers)

	rec = env.do(request{method: "DELETE", path: path, token: tokIntegration})
	require.Equal(t, http.StatusNoContent, rec.Code)
	assert.NotContains(t, hooks.subs, mine.ID)
}

func TestWebhookRequestsAreValidated(t *testing.T) {
	for _, tc := range []struct {
		name       string
		production bool
		body       string
		field      string
	}{
		{"http in production", true, subscribeJSON("http://93.184.215.14/x"), "url"},
		{"loopback in production", true, subscribeJSON("https://127.0.0.1/x"), "url"},
		{"private address", false, subscribeJSON("https://10.1.2.3/x"), "url"},
		{"metadata address", false, subscribeJSON("http://169.254.169.254/latest/meta-data"), "url"},
		{"http to a public address in development", false, subscribeJSON("http://93.184.215.14/x"), "url"},
		{"unknown event type", false, `{"url": "https://93.184.215.14/x", "events": ["case.exploded"]}`, "events"},
		{"no events", false, `{"url": "https://93.184.215.14/x", "events": []}`, "events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, hooks := newWebhookEnv(t, egress.Mode{Production: tc.production})
			p := problemOf(t, env.do(request{method: "POST", path: "/v1/webhooks", token: tokIntegration, body: tc.body}),
				http.StatusUnprocessableEntity)
			assert.Contains(t, fieldsOf(p), tc.field)
			assert.Empty(t, hooks.subs)
		})
	}
	env, _ := newWebhookEnv(t, egress.Mode{})
	rec := env.do(request{method: "POST", path: "/v1/webhooks", token: tokIntegration, body: subscribeJSON("http://127.0.0.1:9999/hook")})
	assert.Equal(t, http.StatusCreated, rec.Code, "development allows http to loopback: %s", rec.Body.String())
	sub := env.subscribe(t, tokIntegration)
	p := problemOf(t, env.do(request{method: "GET", path: "/v1/webhooks/" + sub.ID + "/deliveries?status=lost", token: tokIntegration}),
		http.StatusUnprocessableEntity)
	assert.Contains(t, fieldsOf(p), "status")
	p = problemOf(t, env.do(request{method: "POST", path: "/v1/webhooks/" + sub.ID + "/redeliver", token: tokIntegration, body: `{"from_seq": 0}`}),
		http.StatusUnprocessableEntity)
	assert.Contains(t, fieldsOf(p), "from_seq")
	problemOf(t, env.do(request{method: "GET", path: "/v1/webhooks/not-an-id", token: tokIntegration}), http.StatusNotFound)
}

// The 26th active subscription of an integration is refused with a problem that
// says why; another integration may still subscribe.
func TestWebhookSubscriptionsPerIntegrationAreLimited(t *testing.T) {
	env, hooks := newWebhookEnv(t, egress.Mode{Production: true})
	for range tierflow.MaxActiveWebhookSubscriptions {
		env.subscribe(t, tokIntegration)
	}
	p := problemOf(t, env.do(request{method: "POST", path: "/v1/webhooks", token: tokIntegration,
		body: subscribeJSON("https://93.184.215.14/hooks")}), http.StatusUnprocessableEntity)
	assert.Contains(t, p.Detail, "at most 25 active webhook subscriptions")
	assert.Len(t, hooks.subs, tierflow.MaxActiveWebhookSubscriptions)
	env.subscribe(t, otherIntegration)
}

// webhookResolver resolves one internal name; every other name does not exist.
type webhookResolver map[string][]netip.Addr

func (r webhookResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

// A refused URL is explained by the rule only; the address or internal name
// behind it goes to the server's log, not to the integration.
func TestWebhookRefusalNamesNoInternalAddress(t *testing.T) {
	env, hooks := newWebhookEnv(t, egress.Mode{Production: true})
	env.srv.Resolver = webhookResolver{"crm.example.com": {netip.MustParseAddr("10.2.3.4")}}
	var logs bytes.Buffer
	env.srv.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	for _, tc := range []struct{ url, says, hidden string }{
		{"https://10.2.3.4/hook", "refused target: the URL's host is not a public address", "10.2.3.4"},
		{"https://crm.example.com/hook", "refused target: the URL's host is not a public address", "10.2.3.4"},
		{"https://db.internal/hook", "refused target: the URL's host does not resolve", "db.internal"},
	} {
		logs.Reset()
		rec := env.do(request{method: "POST", path: "/v1/webhooks", token: tokIntegration, body: subscribeJSON(tc.url)})
		p := problemOf(t, rec, http.StatusUnprocessableEntity)
		require.Len(t, p.Errors, 1, tc.url)
		assert.Equal(t, tierflow.FieldError{Field: "url", Message: tc.says}, p.Errors[0], tc.url)
		body := strings.ReplaceAll(rec.Body.String(), tc.url, "") // the request's own URL aside
		assert.NotContains(t, body, tc.hidden, tc.url)
		assert.Contains(t, logs.String(), tc.hidden, "the log keeps the detail of %s", tc.url)
	}
	assert.Empty(t, hooks.subs)
}
