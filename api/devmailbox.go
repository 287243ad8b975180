package main

import (
	"context"
	"net/http"

	"github.com/tierflow/tierflow"
)

// devMailbox is the dev mailbox's pages, or nil (not mounted) unless
// TIERFLOW_MAILBOX=true outside production.
func devMailbox(cfg config, mb tierflow.Mailbox) http.Handler {
	if !cfg.Mailbox || cfg.Mode.Production {
		return nil
	}
	return mailboxHandler(mb)
}

// mailboxRealm is what a browser shows when it asks for the dev mailbox's
// credentials.
const mailboxRealm = "Tierflow dev mailbox: any user name, your API token as the password"

// authenticateMailbox lets only authenticated principals (any role) reach the dev
// mailbox, which shows customers' addresses and live survey links. Scripts send
// their API token as a bearer token; a browser, prompted by the Basic challenge of
// the 401, sends it as the password of HTTP Basic (the user name is ignored) and
// then on every page of the mailbox. The mailbox is mounted only outside
// production (TIERFLOW_ENV=production refuses TIERFLOW_MAILBOX=true).
func (s *server) authenticateMailbox(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store") // pages hold personal data
		token, found := mailboxToken(r)
		p, ok := s.authenticate(w, r, token, found,
			`Basic realm="`+mailboxRealm+`", charset="UTF-8"`, `Bearer realm="tierflow"`)
		if !ok {
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// mailboxToken is the API token of an HTTP Basic password or a bearer token.
func mailboxToken(r *http.Request) (token string, found bool) {
	if _, password, ok := r.BasicAuth(); ok {
		return password, true
	}
	return bearerToken(r.Header.Get("Authorization"))
}
