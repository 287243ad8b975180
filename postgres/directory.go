package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tierflow/tierflow"
)

const staffColumns = `s.id, s.name, s.email, s.role, s.tier, s.departments, s.active`

// servesDepartment matches staff serving department $2 (case-insensitively), or
// any department when $2 is empty, like tierflow.Principal.InDepartment: a
// supervisor or executive with no departments oversees every one; an agent or
// specialist with none (a row from before UpsertStaff required them) serves none.
const servesDepartment = `($2 = ''
    OR (cardinality(s.departments) = 0 AND s.role NOT IN ('agent', 'specialist'))
    OR lower($2) IN (SELECT lower(d) FROM unnest(s.departments) AS d))`

// pickAssigneeSQL orders the candidates by their open cases as staff_load
// (migration 009: triggers on cases keep it) counts them, reading one row per
// candidate however many cases they hold. A member without a row has none open.
const pickAssigneeSQL = `
SELECT ` + staffColumns + `
FROM staff s
LEFT JOIN staff_load l ON l.staff_id = s.id
WHERE s.active AND s.tier = $1 AND ` + servesDepartment + `
ORDER BY coalesce(l.open_cases, 0), s.name, s.id
LIMIT 1`

// PickAssignee returns the active member of the tier who serves the department
// with the fewest open cases (assigned and neither resolved nor closed), ties
// broken by name then id. ok is false when nobody serves it (use the queue).
func (s *Store) PickAssignee(ctx context.Context, tier tierflow.Tier, department string) (tierflow.StaffMember, bool, error) {
	if !tier.Valid() {
		return tierflow.StaffMember{}, false, tierflow.Errorf(tierflow.CodeInvalid, "tier must be 1 to 4, got %d", tier)
	}
	m, err := scanStaff(s.pool.QueryRow(ctx, pickAssigneeSQL, tier, department))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.StaffMember{}, false, nil
	}
	if err != nil {
		return tierflow.StaffMember{}, false, fmt.Errorf("pick assignee at tier %d: %w", tier, mapError(err))
	}
	return m, true, nil
}

// StaffByID returns one member, active or not; ok is false when unknown.
func (s *Store) StaffByID(ctx context.Context, id string) (tierflow.StaffMember, bool, error) {
	m, err := scanStaff(s.pool.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff s WHERE s.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return tierflow.StaffMember{}, false, nil
	}
	if err != nil {
		return tierflow.StaffMember{}, false, fmt.Errorf("staff %s: %w", id, mapError(err))
	}
	return m, true, nil
}

// StaffAtTier returns the active members at tier or above who serve the
// department (any department when empty), lowest tier first, then by name.
func (s *Store) StaffAtTier(ctx context.Context, tier tierflow.Tier, department string) ([]tierflow.StaffMember, error) {
	if !tier.Valid() {
		return nil, tierflow.Errorf(tierflow.CodeInvalid, "tier must be 1 to 4, got %d", tier)
	}
	rows, err := s.pool.Query(ctx, `
SELECT `+staffColumns+` FROM staff s
WHERE s.active AND s.tier >= $1 AND `+servesDepartment+`
ORDER BY s.tier, s.name, s.id`, tier, department)
	if err != nil {
		return nil, fmt.Errorf("staff at tier %d: %w", tier, mapError(err))
	}
	members, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tierflow.StaffMember, error) {
		return scanStaff(row)
	})
	if err != nil {
		return nil, fmt.Errorf("staff at tier %d: %w", tier, mapError(err))
	}
	return members, nil
}

// UpsertStaff creates or replaces a member of the directory.
func (s *Store) UpsertStaff(ctx context.Context, m tierflow.StaffMember) error {
	if err := m.Validate(); err != nil {
		return err
	}
	departments := m.Departments
	if departments == nil {
		departments = []string{}
	}
	_, err := s.pool.Exec(ctx, `
INSERT INTO staff (id, name, email, role, tier, departments, active)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,
    role = excluded.role, tier = excluded.tier, departments = excluded.departments,
    active = excluded.active, updated_at = now()`,
		m.ID, m.Name, m.Email, m.Role, m.Tier, departments, m.Active)
	if err != nil {
		return fmt.Errorf("upsert staff %s: %w", m.ID, mapError(err))
	}
	return nil
}

// DevStaff is the directory of the dev environment: one member per deciding dev
// token's principal (dev:agent, dev:specialist, dev:supervisor, dev:executive, the
// IDs the API gives the tokens dev-agent, ...) plus a few colleagues so that
// assignment has a choice to make.
var DevStaff = []tierflow.StaffMember{
	{ID: "dev:agent", Name: "Alex Agent", Email: "alex.agent@support.example.com", Role: tierflow.RoleAgent,
		Tier: tierflow.TierFrontline, Departments: []string{"billing", "technical", "shipping"}, Active: true},
	{ID: "dev:agent-2", Name: "Bailey Frontline", Email: "bailey.frontline@support.example.com", Role: tierflow.RoleAgent,
		Tier: tierflow.TierFrontline, Departments: []string{"billing", "shipping"}, Active: true},
	{ID: "dev:specialist", Name: "Sam Specialist", Email: "sam.specialist@support.example.com", Role: tierflow.RoleSpecialist,
		Tier: tierflow.TierSpecialist, Departments: []string{"billing", "technical"}, Active: true},
	{ID: "dev:specialist-shipping", Name: "Casey Shipping", Email: "casey.shipping@support.example.com", Role: tierflow.RoleSpecialist,
		Tier: tierflow.TierSpecialist, Departments: []string{"shipping"}, Active: true},
	{ID: "dev:supervisor", Name: "Morgan Supervisor", Email: "morgan.supervisor@support.example.com", Role: tierflow.RoleSupervisor,
		Tier: tierflow.TierSupervisor, Departments: []string{"billing", "technical", "shipping"}, Active: true},
	{ID: "dev:executive", Name: "Jordan Executive", Email: "jordan.executive@support.example.com", Role: tierflow.RoleExecutive,
		Tier: tierflow.TierExecutive, Departments: []string{}, Active: true},
}

// retiredDevStaffIDs were DevStaff's IDs when a dev principal's ID was its token;
// a dev database seeded then still holds them.
var retiredDevStaffIDs = []string{"dev-agent", "dev-agent-2", "dev-specialist", "dev-specialist-shipping", "dev-supervisor", "dev-executive"}

// SeedDevStaff upserts DevStaff and deactivates the retired dev IDs, so that an
// older dev database does not hold every colleague twice (safe to run at every dev
// start).
func (s *Store) SeedDevStaff(ctx context.Context) error {
	for _, m := range DevStaff {
		if err := s.UpsertStaff(ctx, m); err != nil {
			return fmt.Errorf("seed dev staff: %w", err)
		}
	}
	if _, err := s.pool.Exec(ctx, `UPDATE staff SET active = false, updated_at = now() WHERE active AND id = ANY($1)`,
		retiredDevStaffIDs); err != nil {
		return fmt.Errorf("seed dev staff: retire the old dev ids: %w", mapError(err))
	}
	return nil
}

func scanStaff(row pgx.Row) (tierflow.StaffMember, error) {
	var m tierflow.StaffMember
	err := row.Scan(&m.ID, &m.Name, &m.Email, &m.Role, &m.Tier, &m.Departments, &m.Active)
	return m, err
}
