package fakesendgrid

import (
	"net/http"
	"time"
)

// Mail is the decoded body of an accepted POST /v3/mail/send (the parts tests
// look at).
type Mail struct {
	From             Address           `json:"from"`
	ReplyTo          *Address          `json:"reply_to,omitempty"`
	Subject          string            `json:"subject,omitempty"`
	Personalizations []Personalization `json:"personalizations"`
	Content          []Content         `json:"content,omitempty"`
	TemplateID       string            `json:"template_id,omitempty"`
	Categories       []string          `json:"categories,omitempty"`
	MailSettings     *struct {
		SandboxMode *struct {
			Enable bool `json:"enable"`
		} `json:"sandbox_mode,omitempty"`
	} `json:"mail_settings,omitempty"`
}

// Address is an email object.
type Address struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// Personalization is one envelope.
type Personalization struct {
	To                  []Address         `json:"to"`
	CC                  []Address         `json:"cc,omitempty"`
	BCC                 []Address         `json:"bcc,omitempty"`
	Subject             string            `json:"subject,omitempty"`
	CustomArgs          map[string]string `json:"custom_args,omitempty"`
	DynamicTemplateData map[string]any    `json:"dynamic_template_data,omitempty"`
}

// Content is one MIME part.
type Content struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Sandbox reports whether the message asked for sandbox mode.
func (m Mail) Sandbox() bool {
	return m.MailSettings != nil && m.MailSettings.SandboxMode != nil && m.MailSettings.SandboxMode.Enable
}

// Part returns the content of the given MIME type, or "".
func (m Mail) Part(mimeType string) string {
	for _, c := range m.Content {
		if c.Type == mimeType {
			return c.Value
		}
	}
	return ""
}

// Recipients lists every to address of every personalization.
func (m Mail) Recipients() []string {
	var out []string
	for _, p := range m.Personalizations {
		for _, a := range p.To {
			out = append(out, a.Email)
		}
	}
	return out
}

// Message is one accepted request.
type Message struct {
	ID         string // the X-Message-Id answered
	Mail       Mail
	Raw        []byte
	Header     http.Header
	AcceptedAt time.Time
}
