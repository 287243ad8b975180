package sendgrid

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/tierflow/tierflow"
)

// DevMailbox is the Mailer of development: it renders every message with the
// embedded templates and keeps it in a persisted tierflow.Mailbox instead of
// sending it. Nothing is ever dropped; MailboxHandler shows what was "sent".
type DevMailbox struct {
	Mailbox tierflow.Mailbox
	render  *Renderer
}

var _ tierflow.Mailer = (*DevMailbox)(nil)

// NewDevMailbox returns a DevMailbox saving into mb.
func NewDevMailbox(mb tierflow.Mailbox) (*DevMailbox, error) {
	if mb == nil {
		return nil, errors.New("dev mailbox: a mailbox store is required")
	}
	r, err := NewRenderer(nil)
	if err != nil {
		return nil, err
	}
	return &DevMailbox{Mailbox: mb, render: r}, nil
}

// Send renders e and saves it; the provider id is "mailbox-<id>". Saving is
// idempotent by e.Key, so a retry returns the same id.
func (d *DevMailbox) Send(ctx context.Context, e tierflow.Email) (string, error) {
	if len(e.To) == 0 {
		return "", tierflow.Errorf(tierflow.CodeRejected, "email %s has no recipients", e.Kind)
	}
	subject, text, html, err := d.render.Render(e)
	if err != nil {
		return "", tierflow.Errorf(tierflow.CodeRejected, "render %s: %v", e.Kind, err)
	}
	to := make([]string, 0, len(e.To))
	for _, a := range e.To {
		to = append(to, a.Email)
	}
	id, err := d.Mailbox.SaveMail(ctx, tierflow.MailboxMessage{
		Key: e.Key, CaseID: e.CaseID, Kind: e.Kind, To: to, Subject: subject, Text: text, HTML: html,
	})
	if err != nil {
		return "", &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "dev mailbox unavailable",
			Err: fmt.Errorf("save mail: %w", err)}
	}
	return "mailbox-" + strconv.FormatInt(id, 10), nil
}
