package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func member(id, name string, tier tierflow.Tier, active bool, depts ...string) tierflow.StaffMember {
	roles := map[tierflow.Tier]tierflow.Role{1: tierflow.RoleAgent, 2: tierflow.RoleSpecialist, 3: tierflow.RoleSupervisor, 4: tierflow.RoleExecutive}
	return tierflow.StaffMember{ID: id, Name: name, Email: id + "@support.example.com", Role: roles[tier],
		Tier: tier, Departments: depts, Active: active}
}

// assign records a case owned by assignee in the given status.
func assign(t *testing.T, s *Store, caseID, assignee string, status tierflow.Status) {
	t.Helper()
	v := testCase(caseID, 1)
	v.Assignee, v.Status = &assignee, status
	record(t, s, v)
}

func TestPickAssigneeLeastLoadedTiesByName(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, m := range []tierflow.StaffMember{
		member("a-bob", "Bob", 1, true, "billing"),
		member("a-alice", "Alice", 1, true, "billing", "shipping"),
		member("a-carol", "Carol", 1, true, "shipping"),
		member("a-aaron", "Aaron", 1, false, "billing"), // inactive: never picked
		member("s-sam", "Sam", 2, true, "shipping"),
	} {
		require.NoError(t, s.UpsertStaff(ctx, m))
	}

	pick := func(tier tierflow.Tier, dept string) (string, bool) {
		t.Helper()
		m, ok, err := s.PickAssignee(ctx, tier, dept)
		require.NoError(t, err)
		return m.ID, ok
	}
	id, ok := pick(1, "billing")
	assert.True(t, ok)
	assert.Equal(t, "a-alice", id, "no load: ties by name")

	assign(t, s, "c1", "a-alice", tierflow.StatusInProgress)
	assign(t, s, "c2", "a-alice", tierflow.StatusOpen)
	assign(t, s, "c3", "a-bob", tierflow.StatusAwaitingCustomer)
	for i, st := range []tierflow.Status{tierflow.StatusResolved, tierflow.StatusClosed, tierflow.StatusClosed} {
		assign(t, s, fmt.Sprintf("done-%d", i), "a-bob", st) // finished cases are no load
	}
	id, _ = pick(1, "billing")
	assert.Equal(t, "a-bob", id, "Bob has 1 open case, Alice 2")

	assign(t, s, "c4", "a-bob", tierflow.StatusAwaitingApproval)
	id, _ = pick(1, "BILLING")
	assert.Equal(t, "a-alice", id, "2 each: ties by name; departments match case-insensitively")

	id, _ = pick(1, "shipping")
	assert.Equal(t, "a-carol", id, "Carol has no cases")
	id, _ = pick(1, "")
	assert.Equal(t, "a-carol", id, "no department: anyone at the tier")
	id, _ = pick(2, "shipping")
	assert.Equal(t, "s-sam", id)

	_, ok = pick(1, "legal")
	assert.False(t, ok, "nobody serves legal: the queue takes it")
	_, ok = pick(3, "")
	assert.False(t, ok, "nobody at tier 3")

	_, _, err := s.PickAssignee(ctx, 0, "")
	requireCode(t, err, tierflow.CodeInvalid)
}

func TestStaffLookups(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, m := range []tierflow.StaffMember{
		member("sup-b", "Blair", 3, true, "billing"),
		member("sup-s", "Shay", 3, true, "shipping"),
		member("exec", "Eden", 4, true),
		member("gone", "Gale", 3, false, "billing"),
		member("spec", "Sky", 2, true, "billing"),
	} {
		require.NoError(t, s.UpsertStaff(ctx, m))
	}

	got, err := s.StaffAtTier(ctx, 3, "billing")
	require.NoError(t, err)
	ids := make([]string, len(got))
	for i, m := range got {
		ids[i] = m.ID
	}
	assert.Equal(t, []string{"sup-b", "exec"}, ids, "tier 3 and above serving billing, active only")

	m, ok, err := s.StaffByID(ctx, "gone")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, member("gone", "Gale", 3, false, "billing"), m)
	_, ok, err = s.StaffByID(ctx, "nobody")
	require.NoError(t, err)
	assert.False(t, ok)

	renamed := member("spec", "Sky Walker", 2, true, "billing", "technical")
	require.NoError(t, s.UpsertStaff(ctx, renamed))
	m, _, err = s.StaffByID(ctx, "spec")
	require.NoError(t, err)
	assert.Equal(t, renamed, m)

	bad := member("x", "X", 7, true)
	requireCode(t, s.UpsertStaff(ctx, bad), tierflow.CodeInvalid)
	bad = member("x", "X", 1, true, "billing")
	bad.Email = "not-an-email"
	requireCode(t, s.UpsertStaff(ctx, bad), tierflow.CodeInvalid)
}

// An agent or specialist without departments is refused; one already in the table
// from before the rule serves no department (it used to serve every one), while a
// supervisor or executive without departments still oversees all.
func TestDepartmentlessAgentsServeNoDepartment(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, m := range []tierflow.StaffMember{member("a-none", "Ann", 1, true), member("s-none", "Sid", 2, true)} {
		requireCode(t, s.UpsertStaff(ctx, m), tierflow.CodeInvalid)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO staff (id, name, email, role, tier, departments, active) VALUES
    ('a-legacy', 'Lee', 'lee@support.example.com', 'agent', 1, '{}', true),
    ('s-legacy', 'Sol', 'sol@support.example.com', 'specialist', 2, '{}', true)`)
	require.NoError(t, err)
	require.NoError(t, s.UpsertStaff(ctx, member("sup-all", "Avery", 3, true)))

	for _, tier := range []tierflow.Tier{1, 2} {
		_, ok, err := s.PickAssignee(ctx, tier, "billing")
		require.NoError(t, err)
		assert.False(t, ok, "a tier %d member without departments is never picked for billing", tier)
		m, ok, err := s.PickAssignee(ctx, tier, "")
		require.NoError(t, err)
		assert.True(t, ok && m.Tier == tier, "a case without a department is anyone's at its tier")
	}
	got, err := s.StaffAtTier(ctx, 2, "billing")
	require.NoError(t, err)
	ids := make([]string, len(got))
	for i, m := range got {
		ids[i] = m.ID
	}
	assert.Equal(t, []string{"sup-all"}, ids, "the supervisor oversees billing; the department-less specialist does not")
}

func TestSeedDevStaff(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	oldSeed := member("dev-agent", "Alex Agent", 1, true, "billing")
	require.NoError(t, s.UpsertStaff(ctx, oldSeed), "a dev database seeded when the ids were the tokens")
	require.NoError(t, s.SeedDevStaff(ctx))
	require.NoError(t, s.SeedDevStaff(ctx), "seeding twice is harmless")
	assert.Equal(t, len(DevStaff)+1, countRows(t, s, "staff"))
	old, ok, err := s.StaffByID(ctx, "dev-agent")
	require.NoError(t, err)
	require.True(t, ok)
	assert.False(t, old.Active, "the old dev id is retired: nobody is assigned twice")

	for tier, id := range map[tierflow.Tier]string{1: "dev:agent", 2: "dev:specialist", 3: "dev:supervisor", 4: "dev:executive"} {
		m, ok, err := s.StaffByID(ctx, id)
		require.NoError(t, err)
		require.True(t, ok, id)
		assert.Equal(t, tier, m.Tier, id)
		assert.Contains(t, m.Email, "@support.example.com")
	}
	for _, dept := range []string{"billing", "technical", "shipping"} {
		for tier := tierflow.Tier(1); tier <= 4; tier++ {
			_, ok, err := s.PickAssignee(ctx, tier, dept)
			require.NoError(t, err)
			assert.True(t, ok, "tier %d %s has someone", tier, dept)
		}
	}
}
