package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/secrets"
)

// The attack: anyone who reaches a development API reads the dev mailbox, every
// customer's address and live survey link. Now it needs an API token.

const (
	mailboxCustomer   = "ada.customer@example.com"
	mailboxSurveyLink = "https://support.example.com/v1/surveys/live-survey-token"
	mailboxViewerTok  = "mailbox-test-viewer-token"
)

// fakeMailbox holds one kept email.
type fakeMailbox struct{ msg tierflow.MailboxMessage }

func (f *fakeMailbox) SaveMail(context.Context, tierflow.MailboxMessage) (int64, error) {
	return 1, nil
}
func (f *fakeMailbox) ListMail(context.Context, string, int) ([]tierflow.MailboxMessage, error) {
	return []tierflow.MailboxMessage{f.msg}, nil
}
func (f *fakeMailbox) GetMail(_ context.Context, id int64) (tierflow.MailboxMessage, error) {
	if id != f.msg.ID {
		return tierflow.MailboxMessage{}, tierflow.Errorf(tierflow.CodeNotFound, "no mail %d", id)
	}
	return f.msg, nil
}

// mailboxServer serves the real mailbox pages over one kept survey email, as run
// wires them with TIERFLOW_MAILBOX=true outside production.
func mailboxServer(t *testing.T, logs *bytes.Buffer) http.Handler {
	t.Helper()
	mb := &fakeMailbox{msg: tierflow.MailboxMessage{ID: 7, Key: "zendesk-1/1/survey", CaseID: "zendesk-1",
		Kind: tierflow.MsgSurvey, To: []string{mailboxCustomer}, Subject: "How did we do?",
		Text: "Tell us: " + mailboxSurveyLink, HTML: `<a href="` + mailboxSurveyLink + `">answer</a>`, CreatedAt: testNow}}
	handler := devMailbox(config{Mailbox: true}, mb)
	require.NotNil(t, handler, "mounted outside production")
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	srv := newServer(Deps{Cases: newFakeCases(), Records: newFakeRecords(), Logger: logger, Mailbox: handler,
		Auth: NewAuthenticator([]TokenEntry{{TokenSHA256: HashToken(mailboxViewerTok), ID: "ops-viewer", Role: tierflow.RoleViewer}})})
	return srv.routes()
}

func mailboxGet(h http.Handler, path, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

var mailboxPages = []string{"/dev/mailbox/", "/dev/mailbox/?case=zendesk-1", "/dev/mailbox/7", "/dev/mailbox/7/text", "/dev/mailbox/7/html"}

func TestSecurityMailboxRefusesUnauthenticatedReaders(t *testing.T) {
	h := mailboxServer(t, nil)
	for _, path := range mailboxPages {
		t.Run(path, func(t *testing.T) {
			rec := mailboxGet(h, path, "")
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			body := rec.Body.String()
			assert.NotContains(t, body, mailboxCustomer)
			assert.NotContains(t, body, "live-survey-token")
			// A browser prompts for the token (Basic); scripts learn they need a bearer.
			challenges := rec.Header().Values("WWW-Authenticate")
			require.Len(t, challenges, 2)
			assert.True(t, strings.HasPrefix(challenges[0], `Basic realm="Tierflow dev mailbox`), challenges[0])
			assert.Equal(t, `Bearer realm="tierflow"`, challenges[1])
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		})
	}
}

func TestSecurityMailboxRefusesWrongCredentials(t *testing.T) {
	h := mailboxServer(t, nil)
	for name, authorization := range map[string]string{
		"wrong bearer":                   "Bearer not-a-token",
		"empty bearer":                   "Bearer ",
		"basic with a wrong password":    basic("ops", "not-a-token"),
		"basic with the token as user":   basic(mailboxViewerTok, ""),
		"basic without a password":       basic("ops", ""),
		"basic that is not base64":       "Basic %%%",
		"the token without a scheme":     mailboxViewerTok,
		"a dev token this API never had": "Bearer dev-viewer",
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range mailboxPages {
				rec := mailboxGet(h, path, authorization)
				assert.Equal(t, http.StatusUnauthorized, rec.Code, path)
				assert.NotContains(t, rec.Body.String(), mailboxCustomer, path)
			}
		})
	}
}

func TestSecurityMailboxServesAuthenticatedPrincipals(t *testing.T) {
	var logs bytes.Buffer
	h := mailboxServer(t, &logs)
	for name, authorization := range map[string]string{
		"bearer (scripts)":                   "Bearer " + mailboxViewerTok,
		"basic, token as password (browser)": basic("anyone", mailboxViewerTok),
	} {
		t.Run(name, func(t *testing.T) {
			rec := mailboxGet(h, "/dev/mailbox/", authorization)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Body.String(), mailboxCustomer)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			rec = mailboxGet(h, "/dev/mailbox/7/text", authorization)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Contains(t, rec.Body.String(), mailboxSurveyLink)
		})
	}
	out := logs.String()
	assert.Contains(t, out, `"principal_id":"ops-viewer"`, "the access log names the principal")
	assert.NotContains(t, out, mailboxViewerTok, "and never the token")
	assert.NotContains(t, out, base64.StdEncoding.EncodeToString([]byte("anyone:"+mailboxViewerTok)))
}

func TestSecurityMailboxIsNeverMountedInProduction(t *testing.T) {
	production := config{Mailbox: true, Mode: secrets.Mode{Production: true}}
	assert.Nil(t, devMailbox(production, &fakeMailbox{}), "even a production config that asks for it")
	assert.Nil(t, devMailbox(config{}, &fakeMailbox{}), "nor without TIERFLOW_MAILBOX=true")

	srv := newServer(Deps{Mailbox: devMailbox(production, &fakeMailbox{}),
		Auth: NewAuthenticator([]TokenEntry{{TokenSHA256: HashToken(mailboxViewerTok), ID: "ops-viewer", Role: tierflow.RoleViewer}})})
	rec := mailboxGet(srv.routes(), "/dev/mailbox/", "Bearer "+mailboxViewerTok)
	assert.Equal(t, http.StatusNotFound, rec.Code)

	env := productionAPIEnv(t)
	env["TIERFLOW_MAILBOX"] = "true"
	_, err := loadConfig(func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TIERFLOW_ENV=production: refuses TIERFLOW_MAILBOX=true")
	delete(env, "TIERFLOW_MAILBOX")
	cfg, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.False(t, cfg.Mailbox)
	assert.True(t, cfg.Mode.Production)
}
