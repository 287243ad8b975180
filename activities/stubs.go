package activities

// The bodies of these methods are implemented in record.go, notify.go and assign.go
// (side-effects issue); these declarations fix the contract the workflow calls.

import (
	"context"
	"errors"
)

var errNotImplemented = errors.New("activity not implemented yet")

// RecordTransition appends the transition's events and moves the case projection
// forward, in one transaction; safe to retry.
func (a *Activities) RecordTransition(ctx context.Context, in RecordTransitionInput) error {
	return errNotImplemented
}

// NotifyCustomer emails the customer at most once per key.
func (a *Activities) NotifyCustomer(ctx context.Context, in NotifyCustomerInput) (NotifyResult, error) {
	return NotifyResult{}, errNotImplemented
}

// NotifyStaff emails the staff groups at most once per key.
func (a *Activities) NotifyStaff(ctx context.Context, in NotifyStaffInput) (NotifyResult, error) {
	return NotifyResult{}, errNotImplemented
}

// AssignOwner picks the owner for a tier and department from the staff directory.
func (a *Activities) AssignOwner(ctx context.Context, in AssignOwnerInput) (AssignOwnerResult, error) {
	return AssignOwnerResult{}, errNotImplemented
}
