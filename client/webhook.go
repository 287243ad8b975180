package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// CreatedWebhook is a new subscription with its signing secret ("whsec_..."),
// which the API shows this once.
type CreatedWebhook struct {
	tierflow.WebhookSubscription
	Secret string `json:"secret"`
}

// CreateWebhook subscribes sub.URL to sub.Events (POST /v1/webhooks, integration
// token). It is sent once, never retried: a retry after a lost answer would
// create a second subscription.
func (c *Client) CreateWebhook(ctx context.Context, sub tierflow.NewWebhookSubscription) (CreatedWebhook, error) {
	var created CreatedWebhook
	body, err := json.Marshal(sub)
	if err != nil {
		return created, fmt.Errorf("create webhook: encode request: %w", err)
	}
	_, err = c.do(ctx, call{op: "create webhook", method: http.MethodPost, path: "/webhooks", body: body}, &created)
	return created, err
}

// DeleteWebhook deletes one of the integration's subscriptions (DELETE
// /v1/webhooks/{id}). It is sent once: after a lost answer a retry would be 404.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	_, err := c.do(ctx, call{op: "delete webhook", method: http.MethodDelete, path: "/webhooks/" + url.PathEscape(id)}, nil)
	return err
}

// Errors of VerifyWebhook, to match with errors.Is. A receiver answers any of them
// with 400 or 401 and ignores the delivery.
var (
	ErrWebhookSecret    = stdwebhook.ErrSecret
	ErrWebhookHeaders   = stdwebhook.ErrMissingHeaders
	ErrWebhookTimestamp = stdwebhook.ErrInvalidTimestamp
	ErrWebhookTooOld    = stdwebhook.ErrTimestampTooOld
	ErrWebhookTooNew    = stdwebhook.ErrTimestampTooNew
	ErrWebhookSignature = stdwebhook.ErrNoMatchingSignature
)

// VerifyWebhook checks a delivery Tierflow sent to a receiver (Standard Webhooks,
// https://www.standardwebhooks.com): secret is the subscription's "whsec_..."
// secret, headers and body the request as received (read the body in full, before
// any JSON decoding). It refuses a delivery whose webhook-timestamp is more than
// tolerance away from the receiver's clock (5 minutes when tolerance is zero),
// which stops replays of an old delivery. During a secret rotation the
// webhook-signature header carries two signatures; either secret verifies.
//
// A verified delivery may still be a retry: deduplicate on its webhook-id header,
// which stays the same on every attempt.
func VerifyWebhook(secret string, headers http.Header, body []byte, tolerance time.Duration) error {
	key, err := stdwebhook.ParseSecret(secret)
	if err != nil {
		return fmt.Errorf("verify webhook: %w", err)
	}
	if err := stdwebhook.Verify([]stdwebhook.Secret{key}, headers, body, tolerance, time.Now()); err != nil {
		return fmt.Errorf("verify webhook: %w", err)
	}
	return nil
}
