package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tierflow/tierflow/internal/webhookcheck"
)

// WebhookOutage is how long drill 8's receiver answers 503 (issue 11: two minutes).
const WebhookOutage = 2 * time.Minute

// 8. A webhook receiver answers 503 for two minutes, then 200: every event of
// every case opened after the subscription arrives, verified by the Standard
// Webhooks library, first deliveries in seq order per case, duplicates only under
// the same webhook-id. The account is taken once the receiver is back, over the
// events recorded by then (events recorded later are delivered too, unchecked).
func webhookOutage(ctx context.Context, e *Env, r *Result) (time.Time, error) {
	rcv, err := webhookcheck.Start()
	if err != nil {
		return time.Time{}, err
	}
	defer rcv.Close()
	rcv.Answer(http.StatusServiceUnavailable)
	subID, err := subscribe(ctx, e.Topo.APIURLs[0], rcv)
	if err != nil {
		return time.Time{}, err
	}
	defer func() { _ = unsubscribe(context.WithoutCancel(ctx), e.Topo.APIURLs[0], subID) }()
	e.Logf("webhook receiver %s answers 503 for %s (subscription %s)", rcv.URL, WebhookOutage, subID)
	if err := sleep(ctx, WebhookOutage); err != nil {
		return time.Time{}, err
	}
	rcv.Answer(http.StatusOK)
	recovered := time.Now()
	e.Logf("webhook receiver answers 200 again (%d answers refused during the outage)", rcv.Counts().Refused)

	deadline := time.Now().Add(WebhookOutage + 3*time.Minute) // the last backoff before recovery is at most ~2^7 s
	var problems []string
	var cases, events, duplicates int
	for {
		cases, events, duplicates, problems, err = accountWebhooks(ctx, e, subID, rcv)
		if err != nil {
			return time.Time{}, err
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return time.Time{}, err
		}
	}
	c := rcv.Counts()
	r.Note("webhooks: %d cases, %d events delivered in %s after the outage; %d duplicates (same webhook-id); %d bad signatures",
		cases, events, time.Since(recovered).Round(time.Second), duplicates, c.BadSignatures)
	for _, p := range problems {
		r.Note("webhooks: %s", p)
	}
	r.Other += len(problems) + c.BadSignatures + c.Conflicts
	return recovered, nil
}

// accountWebhooks compares, for every case the subscription has a delivery for,
// the receiver's accepted deliveries with the case's audit log.
func accountWebhooks(ctx context.Context, e *Env, subID string, rcv *webhookcheck.Receiver) (cases, events, duplicates int, problems []string, err error) {
	rows, err := e.db.Query(ctx, `
SELECT ce.case_id, array_agg(ce.seq ORDER BY ce.seq)
FROM case_events ce
WHERE ce.case_id IN (SELECT case_id FROM webhook_deliveries WHERE subscription_id = $1 AND seq = 1)
GROUP BY ce.case_id`, subID)
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var caseID string
		var seqs []int64
		if err := rows.Scan(&caseID, &seqs); err != nil {
			return 0, 0, 0, nil, err
		}
		got := rcv.Accepted(caseID)
		dups, ps := webhookcheck.Check(got, seqs)
		cases, events, duplicates = cases+1, events+len(seqs), duplicates+dups
		for _, p := range ps {
			problems = append(problems, caseID+": "+p)
		}
	}
	if cases == 0 {
		problems = append(problems, "no case was opened after the subscription")
	}
	return cases, events, duplicates, problems, rows.Err()
}

func subscribe(ctx context.Context, apiURL string, rcv *webhookcheck.Receiver) (string, error) {
	body, _ := json.Marshal(map[string]any{"url": rcv.URL, "events": []string{"case.*"}, "description": "drill 8 receiver"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/v1/webhooks", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+openToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("subscribe: %w", err)
	}
	defer resp.Body.Close()
	var sub struct{ ID, Secret string }
	if err := json.NewDecoder(resp.Body).Decode(&sub); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("subscribe: %d", resp.StatusCode)
	}
	return sub.ID, rcv.SetSecret(sub.Secret)
}

func unsubscribe(ctx context.Context, apiURL, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, apiURL+"/v1/webhooks/"+id, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+openToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
