package main

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/egress"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// Outbound webhooks (integrations.md). Who may do what:
//   - an integration creates, lists, reads, deletes, rotates and redelivers its own
//     subscriptions; another owner's subscription is, to it, one that does not
//     exist (404);
//   - supervisors and executives (operators) list and read every subscription,
//     list its deliveries and redeliver, but never create one, delete one or see
//     or rotate a secret: a secret is shown once, to the integration that asked.

// webhookOperatorRoles read every subscription and redeliver.
var webhookOperatorRoles = []tierflow.Role{tierflow.RoleSupervisor, tierflow.RoleExecutive}

// subscriptionIDPattern is the form of a subscription ID; anything else is 404
// before any lookup.
var subscriptionIDPattern = regexp.MustCompile(`^wh_[A-Za-z0-9]{8,64}$`)

// webhookJSON is a subscription as the API writes it; Secret only in the answer
// that creates it.
type webhookJSON struct {
	tierflow.WebhookSubscription
	Secret string `json:"secret,omitempty"`
}

func presentWebhook(sub tierflow.WebhookSubscription) webhookJSON {
	if sub.Events == nil {
		sub.Events = []string{}
	}
	return webhookJSON{WebhookSubscription: sub}
}

// webhookScope is the owner a request is scoped to: the integration itself, or
// every owner ("") for an operator.
func webhookScope(p tierflow.Principal) string {
	if p.Role == tierflow.RoleIntegration {
		return p.ID
	}
	return ""
}

func subscriptionIDParam(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !subscriptionIDPattern.MatchString(id) {
		return "", tierflow.Errorf(tierflow.CodeNotFound, "no such webhook subscription")
	}
	return id, nil
}

// createWebhook: POST /v1/webhooks (integration). 201 with the subscription and
// its secret, shown this once.
func (s *server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var req tierflow.NewWebhookSubscription
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Egress.CheckURL(r.Context(), req.URL, s.Resolver); err != nil {
		s.writeError(w, r, refusedURL(err))
		return
	}
	secret, err := newWebhookSecret()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, err := s.Webhooks.CreateSubscription(r.Context(), principalFrom(r.Context()), req, secret)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := presentWebhook(sub)
	out.Secret = secret
	w.Header().Set("Location", "/v1/webhooks/"+sub.ID)
	writeJSON(w, http.StatusCreated, out)
}

// newWebhookSecret is a fresh signing secret as the integration receives it
// (whsec_...), for a new subscription and for a rotation alike.
func newWebhookSecret() (string, error) {
	key, err := stdwebhook.NewSecret()
	if err != nil {
		return "", err
	}
	return key.String(), nil
}

// refusedURL explains an egress refusal as a field error: its text names the rule,
// never an internal address or host name, which only the log's cause holds.
func refusedURL(err error) error {
	if !errors.Is(err, egress.ErrRefused) {
		return err
	}
	return &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid webhook subscription",
		Fields: []tierflow.FieldError{{Field: "url", Message: err.Error()}}, Err: errors.New(egress.Detail(err))}
}

// listWebhooks: GET /v1/webhooks. An integration's own; every one for operators.
func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	subs, err := s.Webhooks.ListSubscriptions(r.Context(), webhookScope(principalFrom(r.Context())))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]webhookJSON, len(subs))
	for i, sub := range subs {
		out[i] = presentWebhook(sub)
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

// getWebhook: GET /v1/webhooks/{id}.
func (s *server) getWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := subscriptionIDParam(r)
	if err == nil {
		var sub tierflow.WebhookSubscription
		if sub, err = s.Webhooks.GetSubscription(r.Context(), webhookScope(principalFrom(r.Context())), id); err == nil {
			writeJSON(w, http.StatusOK, presentWebhook(sub))
			return
		}
	}
	s.writeError(w, r, err)
}

// deleteWebhook: DELETE /v1/webhooks/{id} (integration, its own). 204.
func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := subscriptionIDParam(r)
	if err == nil {
		err = s.Webhooks.DeleteSubscription(r.Context(), principalFrom(r.Context()).ID, id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// rotateWebhookSecret: POST /v1/webhooks/{id}/rotate-secret (integration, its
// own). The new secret, shown once; the old one signs alongside it until
// previous_secret_expires_at.
func (s *server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	id, err := subscriptionIDParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	secret, err := newWebhookSecret()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, err := s.Webhooks.RotateSecret(r.Context(), principalFrom(r.Context()).ID, id, secret)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": sub.ID, "secret": secret,
		"previous_secret_expires_at": sub.PreviousSecretExpiresAt})
}

// listWebhookDeliveries: GET /v1/webhooks/{id}/deliveries[?status=&case_id=&limit=].
func (s *server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := subscriptionIDParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := tierflow.DeliveryFilter{Status: tierflow.DeliveryStatus(q.Get("status")), CaseID: q.Get("case_id")}
	var v tierflow.Validation
	v.Check(f.Status == "" || f.Status.Valid(), "status", "must be one of pending, failing, delivered, dead")
	if raw := q.Get("limit"); raw != "" {
		n, convErr := strconv.Atoi(raw)
		v.Check(convErr == nil && n >= 1 && n <= 500, "limit", "must be 1 to 500")
		f.Limit = n
	}
	if err := v.Err("invalid delivery filter"); err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, err := s.Webhooks.ListDeliveries(r.Context(), webhookScope(principalFrom(r.Context())), id, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ds == nil {
		ds = []tierflow.WebhookDelivery{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}

// redeliverWebhooks: POST /v1/webhooks/{id}/redeliver {from_seq, case_id}. 202
// with how many deliveries were queued; the subscription is enabled again and the
// dispatcher woken.
func (s *server) redeliverWebhooks(w http.ResponseWriter, r *http.Request) {
	id, err := subscriptionIDParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req tierflow.Redelivery
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v tierflow.Validation
	v.Check(req.FromSeq >= 1, "from_seq", "must be 1 or more")
	if req.CaseID != "" {
		_, _, ok := tierflow.SplitCaseID(req.CaseID)
		v.Check(ok && caseIDPattern.MatchString(req.CaseID), "case_id", "must be a case id (<source>-<external_id>)")
	}
	if err := v.Err("invalid redelivery"); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.Webhooks.Redeliver(r.Context(), webhookScope(principalFrom(r.Context())), id, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": n})
}

// webhookRoutes adds the /v1/webhooks routes to the route table.
func (s *server) webhookRoutes(mux *http.ServeMux) {
	integration := tierflow.RoleIntegration
	readers := append([]tierflow.Role{integration}, webhookOperatorRoles...)
	mux.HandleFunc("POST /v1/webhooks", s.authorize(s.createWebhook, integration))
	mux.HandleFunc("GET /v1/webhooks", s.authorize(s.listWebhooks, readers...))
	mux.HandleFunc("GET /v1/webhooks/{id}", s.authorize(s.getWebhook, readers...))
	mux.HandleFunc("DELETE /v1/webhooks/{id}", s.authorize(s.deleteWebhook, integration))
	mux.HandleFunc("POST /v1/webhooks/{id}/rotate-secret", s.authorize(s.rotateWebhookSecret, integration))
	mux.HandleFunc("GET /v1/webhooks/{id}/deliveries", s.authorize(s.listWebhookDeliveries, readers...))
	mux.HandleFunc("POST /v1/webhooks/{id}/redeliver", s.authorize(s.redeliverWebhooks, readers...))
}
