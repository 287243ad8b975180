package main

import (
	"net/http"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/policyfile"
	"github.com/tierflow/tierflow/sendgrid"
)

// loadPolicies offers the embedded policies (standard, fast) plus those of files.
func loadPolicies(files []string) (PolicyRegistry, error) {
	reg, err := policyfile.LoadRegistry(files...)
	if err != nil {
		return nil, err
	}
	return PolicyFunc(reg.Get), nil
}

// mailboxHandler shows the dev mailbox kept in mb.
func mailboxHandler(mb tierflow.Mailbox) http.Handler { return sendgrid.MailboxHandler(mb) }
