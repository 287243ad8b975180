package workflows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// fakes are in-memory activities recording what the workflow asked for.
type fakes struct {
	mu          sync.Mutex
	now         func() time.Time
	transitions []tierflow.Transition
	recordedAt  []time.Time
	customer    []activities.NotifyCustomerInput
	staff       []activities.NotifyStaffInput
	assigns     []activities.AssignOwnerInput
	// batches are the Notify activities, one per transition with emails (runs
	// without the outbox, and records refused with emails).
	batches []activities.NotifyInput
	// outboxed are the email batches recorded into the outbox, in order; the
	// fake delivers each as the mailer would once its record succeeds (into
	// customer and staff) and signals its problems back to the case (signal).
	outboxed []activities.TransitionEmails
	// scheduled are outbox batches not delivered yet: waiting for their
	// NotBefore, lagging (deliveryDelay), or held behind a lagging one; the fake
	// mailer delivers each at the first record from its time on, before that
	// record is written. cancelled are the seqs of those a record withdrew
	// before they went out, cancelRequests every seq a record asked to withdraw.
	scheduled      []activities.TransitionEmails
	cancelled      []int64
	cancelRequests []int64
	// deliveryDelay is the fake mailer's lag (a backlog, its shard down, the
	// batch in retry backoff): a scheduled batch goes out deliveryDelay after
	// its NotBefore and, as ClaimOutbox does, holds back the case's later
	// batches once its NotBefore has passed. Zero: on time.
	deliveryDelay time.Duration
	// customerAfter[i] is how many transitions were recorded when customer[i]
	// was delivered: a record's own emails go after it, a scheduled email due
	// by the time of a record before it.
	customerAfter []int
	signal        func(caseID, name string, arg any)
	// onRecord, when set, runs inside the n-th (from 1) RecordTransition call, while
	// the workflow waits on it.
	onRecord func(n int)
	// rejectCustomer makes NotifyCustomer refuse this kind like a provider 4xx.
	rejectCustomer tierflow.MessageKind
	// unconfirmCustomer makes NotifyCustomer answer "unconfirmed" for this kind
	// (the provider answered 500: it may have the message).
	unconfirmCustomer tierflow.MessageKind
	// rejectStaff makes NotifyStaff refuse this kind like a provider 4xx.
	rejectStaff tierflow.MessageKind
	// recordDown, while set, makes RecordTransition fail as a
	// database outage would (nothing written, retryable).
	recordDown  atomic.Bool
	recordTries int
	// refuseRecord, when it returns true for the n-th try (from 1), refuses the
	// record as invalid input (non-retryable; nothing written).
	refuseRecord func(n int) bool
	// directory is the staff directory LookUpStaff reads; nil means
	// testDirectory (the test principals, active). directoryDown, while it
	// returns true, makes LookUpStaff fail as an unreachable database would.
	directory     map[string]activities.LookUpStaffResult
	directoryDown func() bool
	lookups       []string
}

// testDirectory has every principal the tests decide as, active, exactly as the
// tests spell them (so a verified signal's actor equals the one sent).
func testDirectory() map[string]activities.LookUpStaffResult {
	dir := map[string]activities.LookUpStaffResult{}
	for _, p := range []tierflow.Principal{agent, specialist, supervisor, executive,
		{ID: "spec-2", Role: tierflow.RoleSpecialist, Tier: 2, Departments: []string{"shipping"}}} {
		dir[p.ID] = activities.LookUpStaffResult{Found: true, Active: true, Member: p}
	}
	return dir
}

// LookUpStaff answers from the fake directory.
func (f *fakes) LookUpStaff(_ context.Context, in activities.LookUpStaffInput) (activities.LookUpStaffResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, in.StaffID)
	if f.directoryDown != nil && f.directoryDown() {
		return activities.LookUpStaffResult{}, errors.New("staff " + in.StaffID + ": connect: connection refused")
	}
	dir := f.directory
	if dir == nil {
		dir = testDirectory()
	}
	return dir[in.StaffID], nil
}

func (f *fakes) RecordTransition(ctx context.Context, in activities.RecordTransitionInput) error {
	f.mu.Lock()
	f.recordTries++
	if f.recordDown.Load() {
		f.mu.Unlock()
		return errors.New("connect: connection refused")
	}
	if f.refuseRecord != nil && f.refuseRecord(f.recordTries) {
		f.mu.Unlock()
		return temporal.NewNonRetryableApplicationError("record transition: invalid transition",
			activities.ErrTypeInvalidInput, nil)
	}
	before := f.takeDue()
	f.mu.Unlock()
	// What the mailer sent since the last record went before this one: a
	// record cannot withdraw it.
	if err := f.deliverOutbox(ctx, in.CaseID, before); err != nil {
		return err
	}
	f.mu.Lock()
	if last, ok := f.lastRecorded(in.CaseID); ok && in.Transition.View.Seq <= last.View.Seq {
		// A retry of a write that landed (the local activity's deadline passed
		// while it ran): the store keeps the first and writes nothing, and
		// refuses a different transition under a recorded sequence number.
		for _, tr := range f.transitions {
			if tr.CaseID == in.CaseID && tr.View.Seq == in.Transition.View.Seq && !reflect.DeepEqual(tr, in.Transition) {
				f.mu.Unlock()
				return temporal.NewNonRetryableApplicationError("record transition: a different transition under a recorded seq",
					activities.ErrTypeInvalidInput, nil)
			}
		}
		f.mu.Unlock()
		return nil
	}
	f.transitions = append(f.transitions, in.Transition)
	if f.now != nil {
		f.recordedAt = append(f.recordedAt, f.now())
	}
	f.outboxed = append(f.outboxed, in.Emails...)
	f.scheduled = append(f.scheduled, in.Emails...)
	f.withdraw(in.CancelEmails)
	due := f.takeDue()
	n, hook := len(f.transitions), f.onRecord
	f.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return f.deliverOutbox(ctx, in.CaseID, due)
}

// lastRecorded is the last transition recorded for the case (the capture runs
// every scenario's case on one fakes; the caller holds mu).
func (f *fakes) lastRecorded(caseID string) (tierflow.Transition, bool) {
	for i := len(f.transitions) - 1; i >= 0; i-- {
		if f.transitions[i].CaseID == caseID {
			return f.transitions[i], true
		}
	}
	return tierflow.Transition{}, false
}

// withdraw settles the undelivered scheduled batches a record cancels, as the
// store does; one already delivered is not there any more (the caller holds mu).
func (f *fakes) withdraw(seqs []int64) {
	f.cancelRequests = append(f.cancelRequests, seqs...)
	f.scheduled = slices.DeleteFunc(f.scheduled, func(e activities.TransitionEmails) bool {
		if e.NotBefore != nil && slices.Contains(seqs, e.Seq) {
			f.cancelled = append(f.cancelled, e.Seq)
			return true
		}
		return false
	})
}

// takeDue removes from the fake outbox and returns, by seq, the batches the
// mailer has delivered by now (the caller holds mu): each whose time has come
// (now for a batch not scheduled, NotBefore plus deliveryDelay for one
// scheduled), unless an earlier batch of the case is due but not delivered
// (ClaimOutbox's order); a batch scheduled for later holds nothing back.
func (f *fakes) takeDue() []activities.TransitionEmails {
	now := time.Now()
	if f.now != nil {
		now = f.now()
	}
	slices.SortStableFunc(f.scheduled, func(a, b activities.TransitionEmails) int { return cmp.Compare(a.Seq, b.Seq) })
	var due, wait []activities.TransitionEmails
	blocked := false
	for _, e := range f.scheduled {
		switch {
		case blocked:
			wait = append(wait, e)
		case e.NotBefore == nil || !now.Before(e.NotBefore.Add(f.deliveryDelay)):
			due = append(due, e)
		default:
			wait = append(wait, e)
			blocked = !now.Before(*e.NotBefore) // due, lagging: the case's later batches wait
		}
	}
	f.scheduled = wait
	return due
}

// deliverOutbox sends email batches as the Mailer's DeliverOutbox would (each
// through the fake Notify path) and signals what could not be sent to the case.
func (f *fakes) deliverOutbox(ctx context.Context, caseID string, batches []activities.TransitionEmails) error {
	for _, e := range batches {
		res, err := f.sendBatch(ctx, activities.NotifyInput{CaseID: caseID, Messages: e.Messages})
		if err != nil {
			return err
		}
		var problems []activities.NotifyOutcome
		for _, o := range res.Outcomes {
			if o.State == activities.StateRefused || o.State == activities.StateUnconfirmed {
				problems = append(problems, o)
			}
		}
		if len(problems) > 0 && f.signal != nil {
			f.signal(caseID, SignalNotificationProblems, activities.NotificationProblems{Seq: e.Seq, Outcomes: problems})
		}
	}
	return nil
}

func (f *fakes) NotifyCustomer(_ context.Context, in activities.NotifyCustomerInput) (activities.NotifyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.customer = append(f.customer, in)
	f.customerAfter = append(f.customerAfter, len(f.transitions))
	if in.Kind == f.unconfirmCustomer {
		return activities.NotifyResult{State: activities.StateUnconfirmed, Error: "SendGrid answered 500: outcome unknown"}, nil
	}
	if in.Kind == f.rejectCustomer {
		return activities.NotifyResult{}, temporal.NewNonRetryableApplicationError("email rejected: invalid address",
			activities.ErrTypeEmailRejected, nil)
	}
	return activities.NotifyResult{State: "sent", ProviderMessageID: in.Key}, nil
}

func (f *fakes) NotifyStaff(_ context.Context, in activities.NotifyStaffInput) (activities.NotifyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.staff = append(f.staff, in)
	if in.Kind == f.rejectStaff {
		return activities.NotifyResult{}, temporal.NewNonRetryableApplicationError("email rejected: no such mailbox",
			activities.ErrTypeEmailRejected, nil)
	}
	return activities.NotifyResult{State: "sent", ProviderMessageID: in.Key}, nil
}

// Notify sends a batch through NotifyCustomer and NotifyStaff above, reporting
// each message's outcome as activities.Notify does (a refusal is an outcome).
func (f *fakes) Notify(ctx context.Context, in activities.NotifyInput) (activities.NotifyBatchResult, error) {
	f.mu.Lock()
	f.batches = append(f.batches, in)
	f.mu.Unlock()
	return f.sendBatch(ctx, in)
}

func (f *fakes) sendBatch(ctx context.Context, in activities.NotifyInput) (activities.NotifyBatchResult, error) {
	var out activities.NotifyBatchResult
	for _, m := range in.Messages {
		var res activities.NotifyResult
		var err error
		o := activities.NotifyOutcome{}
		if c := m.Customer; c != nil {
			o.Key, o.Kind = c.Key, c.Kind
			c.CaseID = in.CaseID // as Notify fills in what the batch names once
			res, err = f.NotifyCustomer(ctx, *c)
		} else {
			o.Key, o.Kind = m.Staff.Key, m.Staff.Kind
			m.Staff.CaseID = in.CaseID
			res, err = f.NotifyStaff(ctx, *m.Staff)
		}
		o.State, o.Error = res.State, res.Error
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			o.State, o.Error = activities.StateRefused, appErr.Message()
		} else if err != nil {
			return activities.NotifyBatchResult{}, err
		}
		out.Outcomes = append(out.Outcomes, o)
	}
	return out, nil
}

// DeliverOutbox is the Mailer's delivery: the fake RecordTransition delivers the
// batches itself, so it only reports one.
func (f *fakes) DeliverOutbox(context.Context, activities.DeliverOutboxInput) (activities.DeliverOutboxResult, error) {
	return activities.DeliverOutboxResult{Delivered: 1}, nil
}

// AssignOwner proposes "owner-t<tier>" (with the department when there is one).
func (f *fakes) AssignOwner(_ context.Context, in activities.AssignOwnerInput) (activities.AssignOwnerResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.assigns = append(f.assigns, in)
	id := fmt.Sprintf("owner-t%d", in.Tier)
	if in.Department != "" {
		id += "-" + in.Department
	}
	return activities.AssignOwnerResult{AssigneeID: id, AssigneeName: id}, nil
}

type activityRegistry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

func (f *fakes) register(r activityRegistry) {
	r.RegisterActivityWithOptions(f.RecordTransition, activity.RegisterOptions{Name: "RecordTransition"})
	r.RegisterActivityWithOptions(f.NotifyCustomer, activity.RegisterOptions{Name: "NotifyCustomer"})
	r.RegisterActivityWithOptions(f.NotifyStaff, activity.RegisterOptions{Name: "NotifyStaff"})
	r.RegisterActivityWithOptions(f.Notify, activity.RegisterOptions{Name: "Notify"})
	r.RegisterActivityWithOptions(f.AssignOwner, activity.RegisterOptions{Name: "AssignOwner"})
	r.RegisterActivityWithOptions(f.LookUpStaff, activity.RegisterOptions{Name: "LookUpStaff"})
	r.RegisterActivityWithOptions(f.DeliverOutbox, activity.RegisterOptions{Name: "DeliverOutbox"})
}

// events lists every recorded event in order.
func (f *fakes) events() []tierflow.CaseEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []tierflow.CaseEvent
	for _, tr := range f.transitions {
		out = append(out, tr.Events...)
	}
	return out
}

func (f *fakes) eventTypes() []tierflow.EventType {
	var out []tierflow.EventType
	for _, ev := range f.events() {
		out = append(out, ev.Type)
	}
	return out
}

func (f *fakes) eventsOf(typ tierflow.EventType) []tierflow.CaseEvent {
	var out []tierflow.CaseEvent
	for _, ev := range f.events() {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func (f *fakes) customerKinds() []tierflow.MessageKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []tierflow.MessageKind
	for _, m := range f.customer {
		out = append(out, m.Kind)
	}
	return out
}

func (f *fakes) staffOf(kind tierflow.MessageKind) []activities.NotifyStaffInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []activities.NotifyStaffInput
	for _, m := range f.staff {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakes) customerOf(kind tierflow.MessageKind) []activities.NotifyCustomerInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []activities.NotifyCustomerInput
	for _, m := range f.customer {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// checkRecord asserts the invariants of every run: sequence numbers increase by
// one across transitions, each view carries its last event's Seq, and every
// notification key is "<case>/<seq>/<kind>" and unique.
func (f *fakes) checkRecord(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var seq int64
	for _, tr := range f.transitions {
		require.NotEmpty(t, tr.Events)
		for _, ev := range tr.Events {
			seq++
			assert.Equal(t, seq, ev.Seq, "event %s", ev.Type)
			assert.Equal(t, testCaseID, ev.CaseID)
		}
		assert.Equal(t, seq, tr.View.Seq, "view seq after %s", tr.Events[0].Type)
	}
	keys := map[string]bool{}
	check := func(key string, kind tierflow.MessageKind) {
		parts := strings.Split(key, "/")
		if assert.Len(t, parts, 3, key) {
			assert.Equal(t, testCaseID, parts[0])
			assert.Equal(t, string(kind), parts[2])
		}
		assert.False(t, keys[key], "duplicate key %s", key)
		keys[key] = true
	}
	for _, m := range f.customer {
		check(m.Key, m.Kind)
		assert.Equal(t, "ada@example.com", m.Customer.Email)
	}
	for _, m := range f.staff {
		check(m.Key, m.Kind)
	}
}
