package drill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// caseRun is one case of a drill's load and what its script saw.
type caseRun struct {
	id     string
	req    tierflow.OpenCaseRequest
	opener *client.Client // dev-integration, through API i%2 with the other as replica
	staff  *client.Client // dev-executive, likewise
	prog   *progress

	mu      sync.Mutex
	opened  bool
	ackBy   time.Time // the tier-1 acknowledge deadline
	final   tierflow.CaseView
	closed  bool
	lastErr error
	errs    int // errors that came back from the client (after its own retries)
	step    string
}

func newCaseRun(e *Env, drill, i int, prog *progress) *caseRun {
	ext := fmt.Sprintf("%s-d%d-%03d", e.Nonce, drill, i)
	urls := e.Topo.APIURLs
	first, other := urls[i%len(urls)], urls[(i+1)%len(urls)]
	return &caseRun{
		id: tierflow.CaseID("drill", ext),
		req: tierflow.OpenCaseRequest{
			Source: "drill", ExternalID: ext,
			Customer: tierflow.Customer{ID: fmt.Sprintf("C-%d-%d", drill, i), Name: "Drill Customer",
				Email: fmt.Sprintf("drill%d.%d@example.com", drill, i), Locale: "en"},
			Subject: "Drill case", Description: "A case of the fault drills.", Category: "billing",
			Priority: tierflow.PriorityNormal, Channel: "email", Trigger: tierflow.TriggerUnresolved,
			OpenedAt: time.Now().UTC(), Policy: "fast",
		},
		opener: client.New(first, openToken, client.WithReplicas(other)),
		staff:  client.New(first, decideToken, client.WithReplicas(other)),
		prog:   prog,
	}
}

// script: open at tier 1, wait for the acknowledge deadline to escalate the case
// to tier 2 by itself, acknowledge it, close it (both decisions with fixed
// decision_ids, retried until they answer), then wait to see it closed. Every
// step is retried until stop closes.
func (c *caseRun) script(ctx context.Context, stop <-chan struct{}) {
	try := func(step string, f func(ctx context.Context) error) bool {
		c.setStep(step)
		for {
			callCtx, cancel := context.WithTimeout(ctx, 45*time.Second)
			err := f(callCtx)
			cancel()
			if err == nil {
				return true
			}
			c.fail(err)
			select {
			case <-ctx.Done():
				return false
			case <-stop:
				return false
			case <-time.After(time.Second):
			}
		}
	}
	if !try("open", func(ctx context.Context) error {
		v, _, err := c.opener.OpenCase(ctx, c.req)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.opened = true
		if v.Deadlines.AcknowledgeBy != nil {
			c.ackBy = *v.Deadlines.AcknowledgeBy
		}
		c.mu.Unlock()
		return nil
	}) {
		return
	}
	c.prog.mark()
	// Nothing happens before the deadline: sleep until it.
	c.mu.Lock()
	wait := time.Until(c.ackBy)
	c.mu.Unlock()
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
	if !try("wait for the automatic escalation", func(ctx context.Context) error {
		v, err := c.staff.GetCase(ctx, c.id)
		if err != nil {
			return err
		}
		if v.Tier < 2 && v.Status == tierflow.StatusOpen {
			return errNotYet
		}
		return nil
	}) {
		return
	}
	c.prog.mark()
	if !try("acknowledge", func(ctx context.Context) error {
		_, err := c.staff.Decide(ctx, c.id, tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: c.id + "-ack"})
		return err
	}) {
		return
	}
	c.prog.mark()
	if !try("close", func(ctx context.Context) error {
		_, err := c.staff.Decide(ctx, c.id, tierflow.Decision{Action: tierflow.ActionClose, Reason: "fault drill done",
			DecisionID: c.id + "-close"})
		return err
	}) {
		return
	}
	try("see it closed", func(ctx context.Context) error {
		v, err := c.staff.GetCase(ctx, c.id)
		if err != nil {
			return err
		}
		if v.Status != tierflow.StatusClosed {
			return errNotYet
		}
		c.mu.Lock()
		c.final, c.closed = v, true
		c.mu.Unlock()
		return nil
	})
	c.prog.mark()
	c.setStep("done")
}

var errNotYet = errors.New("not yet")

func (c *caseRun) setStep(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = s
}

func (c *caseRun) fail(err error) {
	if errors.Is(err, errNotYet) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs++
	c.lastErr = err
}
