package sendgrid

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// memMailbox is an in-memory tierflow.Mailbox, idempotent by key.
type memMailbox struct {
	mu   sync.Mutex
	msgs []tierflow.MailboxMessage
	err  error
}

func (m *memMailbox) SaveMail(_ context.Context, msg tierflow.MailboxMessage) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	for _, old := range m.msgs {
		if old.Key == msg.Key {
			return old.ID, nil
		}
	}
	msg.ID, msg.CreatedAt = int64(len(m.msgs)+1), time.Now()
	m.msgs = append(m.msgs, msg)
	return msg.ID, nil
}

func (m *memMailbox) ListMail(_ context.Context, caseID string, limit int) ([]tierflow.MailboxMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []tierflow.MailboxMessage
	for _, msg := range m.msgs {
		if caseID == "" || msg.CaseID == caseID {
			out = append(out, msg)
		}
	}
	return out[:min(limit, len(out))], nil
}

func (m *memMailbox) GetMail(_ context.Context, id int64) (tierflow.MailboxMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.msgs) {
		return tierflow.MailboxMessage{}, tierflow.Errorf(tierflow.CodeNotFound, "no mail %d", id)
	}
	return m.msgs[id-1], nil
}

func TestDevMailboxSavesOncePerKey(t *testing.T) {
	mb := &memMailbox{}
	dev, err := NewDevMailbox(mb)
	require.NoError(t, err)
	e := sample(tierflow.MsgResolution)

	id1, err := dev.Send(context.Background(), e)
	require.NoError(t, err)
	id2, err := dev.Send(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, "mailbox-1", id1)
	assert.Equal(t, id1, id2, "a retry finds the same message")
	require.Len(t, mb.msgs, 1)
	saved := mb.msgs[0]
	assert.Equal(t, []string{"ada@example.org"}, saved.To)
	assert.Equal(t, "Your case ZD-4711 has been resolved", saved.Subject)
	assert.Contains(t, saved.Text, "We refunded the second charge.")
	assert.Contains(t, saved.HTML, "<!DOCTYPE html>")

	mb.err = errors.New("connection refused")
	_, err = dev.Send(context.Background(), sample(tierflow.MsgSurvey))
	assert.Equal(t, tierflow.CodeUnavailable, tierflow.ErrorCode(err), "a store outage is retryable")
}

func get(t *testing.T, h http.Handler, target string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(body), rec.Result().Header
}

func TestMailboxHandler(t *testing.T) {
	mb := &memMailbox{}
	dev, err := NewDevMailbox(mb)
	require.NoError(t, err)
	for _, kind := range []tierflow.MessageKind{tierflow.MsgEscalated, tierflow.MsgResolution} {
		_, err := dev.Send(context.Background(), sample(kind))
		require.NoError(t, err)
	}
	other := sample(tierflow.MsgSurvey)
	other.CaseID, other.Key = "hubspot-9", "hubspot-9/3/survey"
	other.Data.Subject = `<script>alert("x")</script>`
	_, err = dev.Send(context.Background(), other)
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.Handle("/dev/mailbox/", MailboxHandler(mb))

	code, body, header := get(t, mux, "/dev/mailbox/")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, header.Get("Content-Security-Policy"), "default-src 'none'")
	i3, i2, i1 := strings.Index(body, `href="3"`), strings.Index(body, `href="2"`), strings.Index(body, `href="1"`)
	assert.True(t, i3 >= 0 && i3 < i2 && i2 < i1, "newest first")
	assert.NotContains(t, body, "<script>", "subjects are escaped")

	_, body, _ = get(t, mux, "/dev/mailbox/?case=zendesk-4711")
	assert.Contains(t, body, "Your case ZD-4711 has been resolved")
	assert.NotContains(t, body, "hubspot-9/")
	assert.NotContains(t, body, `href="3"`)

	code, body, _ = get(t, mux, "/dev/mailbox/2")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "Your case ZD-4711 has been resolved")
	assert.Contains(t, body, `<iframe sandbox`)
	assert.Contains(t, body, `href="2/text"`)

	code, body, header = get(t, mux, "/dev/mailbox/2/text")
	require.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasPrefix(header.Get("Content-Type"), "text/plain"))
	assert.Contains(t, body, "We refunded the second charge.")

	code, body, _ = get(t, mux, "/dev/mailbox/2/html")
	require.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasPrefix(body, "<!DOCTYPE html>"))

	code, _, _ = get(t, mux, "/dev/mailbox/99")
	assert.Equal(t, http.StatusNotFound, code)

	// Mounted with the prefix stripped, it works the same.
	code, body, _ = get(t, http.StripPrefix("/dev/mailbox", MailboxHandler(mb)), "/dev/mailbox/1/text")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "Hello Ada,")
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	m, desc, err := FromEnv(env(nil), &memMailbox{})
	require.NoError(t, err)
	assert.IsType(t, &DevMailbox{}, m)
	assert.Contains(t, desc, "dev mailbox")

	m, desc, err = FromEnv(env(map[string]string{
		EnvAPIKey: "SG.secret", EnvFrom: "Example Support <support@example.com>", EnvSandbox: "true",
		EnvTemplates: "survey=d-1, resolution=d-2", EnvReplyTo: "help@example.com",
	}), nil)
	require.NoError(t, err)
	real, ok := m.(*Mailer)
	require.True(t, ok)
	assert.Equal(t, tierflow.Address{Email: "support@example.com", Name: "Example Support"}, real.cfg.From)
	assert.Equal(t, "help@example.com", real.cfg.ReplyTo.Email)
	assert.True(t, real.cfg.SandboxMode)
	assert.Equal(t, DefaultBaseURL, real.cfg.BaseURL)
	assert.Equal(t, "d-2", real.cfg.TemplateIDs[tierflow.MsgResolution])
	assert.Contains(t, desc, "sandbox")
	assert.NotContains(t, desc, "SG.secret")

	for name, vars := range map[string]map[string]string{
		"no from":        {EnvAPIKey: "k"},
		"bad from":       {EnvAPIKey: "k", EnvFrom: "not an address"},
		"bad sandbox":    {EnvAPIKey: "k", EnvFrom: "a@example.com", EnvSandbox: "maybe"},
		"bad templates":  {EnvAPIKey: "k", EnvFrom: "a@example.com", EnvTemplates: "nope=d-1"},
		"no dev mailbox": {},
	} {
		var mb tierflow.Mailbox
		_, _, err := FromEnv(env(vars), mb)
		assert.Error(t, err, name)
	}
}
