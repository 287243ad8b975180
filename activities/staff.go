package activities

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tierflow/tierflow"
)

// NotifyStaff emails the staff groups at most once per key. Recipients are resolved
// through the directory at send time; a message nobody can receive is recorded as
// failed ("no recipients") without an error, since a retry would not change that.
func (a *Activities) NotifyStaff(ctx context.Context, in NotifyStaffInput) (NotifyResult, error) {
	e, err := a.staffEmail(ctx, in)
	if err != nil {
		return NotifyResult{}, err
	}
	return a.notify(ctx, e)
}

// staffEmail builds the staff message of in, its recipients resolved now.
func (a *Activities) staffEmail(ctx context.Context, in NotifyStaffInput) (tierflow.Email, error) {
	if in.Key == "" || in.CaseID == "" || in.Kind == "" {
		return tierflow.Email{}, invalidInput("notify staff: key, case_id and kind are required")
	}
	to, err := a.staffRecipients(ctx, in)
	if err != nil {
		return tierflow.Email{}, err
	}
	data := in.Data
	if data.CaseID == "" {
		data.CaseID = in.CaseID
	}
	if data.Tier == 0 {
		data.Tier = in.Tier
	}
	if data.Department == "" {
		data.Department = in.Department
	}
	a.fillStaffLinks(ctx, in.CaseID, &data)
	if in.Kind == tierflow.MsgStaffApproval {
		if err := a.fillApprovalLinks(in.CaseID, in.Department, &data); err != nil {
			return tierflow.Email{}, err
		}
	}
	return tierflow.Email{Key: in.Key, CaseID: in.CaseID, Kind: in.Kind,
		Audience: tierflow.AudienceStaff, To: to, Data: data}, nil
}

// staffRecipients resolves the groups to addresses, without duplicates, sorted by
// address so that every attempt builds the same message:
//
//	owner       the case's assignee, if active
//	queue       the queue address of the case's tier
//	supervisor  active staff at tier 3+ for the department, and the tier-3 queue
//	executive   active staff at tier 4, and the tier-4 queue
//	tier        active staff at the case's tier+ for the department, and its queue
func (a *Activities) staffRecipients(ctx context.Context, in NotifyStaffInput) ([]tierflow.Address, error) {
	byEmail := make(map[string]tierflow.Address)
	add := func(addr tierflow.Address) {
		addr.Email = strings.TrimSpace(addr.Email)
		k := strings.ToLower(addr.Email)
		if k == "" {
			return
		}
		if _, ok := byEmail[k]; !ok {
			byEmail[k] = addr
		}
	}
	addQueue := func(t tierflow.Tier) {
		if q := in.Queues[t]; q != "" {
			add(tierflow.Address{Email: q, Name: fmt.Sprintf("Tier %d queue", t)})
		}
	}
	addTier := func(t tierflow.Tier, dept string) error {
		members, err := a.Store.StaffAtTier(ctx, t, dept)
		if err != nil {
			return activityError(fmt.Sprintf("staff at tier %d", t), err)
		}
		for _, m := range members {
			if m.Active {
				add(tierflow.Address{Email: m.Email, Name: m.Name})
			}
		}
		addQueue(t)
		return nil
	}
	for _, g := range in.Groups {
		var err error
		switch g {
		case StaffOwner:
			err = a.addOwner(ctx, in, add)
		case StaffQueue:
			addQueue(in.Tier)
		case StaffSupervisor:
			err = addTier(tierflow.TierSupervisor, in.Department)
		case StaffExecutive:
			err = addTier(tierflow.TierExecutive, "")
		case StaffTier:
			err = addTier(in.Tier, in.Department)
		default:
			return nil, invalidInput("notify staff: unknown recipient group %q", g)
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]tierflow.Address, 0, len(byEmail))
	for _, addr := range byEmail {
		out = append(out, addr)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Email) < strings.ToLower(out[j].Email) })
	return out, nil
}

func (a *Activities) addOwner(ctx context.Context, in NotifyStaffInput, add func(tierflow.Address)) error {
	if in.AssigneeID == "" {
		return nil
	}
	m, ok, err := a.Store.StaffByID(ctx, in.AssigneeID)
	if err != nil {
		return activityError("staff "+in.AssigneeID, err)
	}
	if ok && m.Active {
		add(tierflow.Address{Email: m.Email, Name: m.Name})
	}
	return nil
}
