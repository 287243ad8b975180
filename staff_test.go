package tierflow

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInDepartmentNeverGrantsAllToAgentsAndSpecialists(t *testing.T) {
	for _, tt := range []struct {
		name  string
		p     Principal
		dept  string
		serve bool
	}{
		{"agent in billing", Principal{Role: RoleAgent, Departments: []string{"billing"}}, "Billing", true},
		{"agent elsewhere", Principal{Role: RoleAgent, Departments: []string{"billing"}}, "shipping", false},
		{"agent without departments", Principal{Role: RoleAgent}, "billing", false},
		{"specialist without departments", Principal{Role: RoleSpecialist}, "billing", false},
		{"specialist with a blank department", Principal{Role: RoleSpecialist, Departments: []string{""}}, "billing", false},
		{"supervisor without departments oversees all", Principal{Role: RoleSupervisor}, "billing", true},
		{"executive without departments oversees all", Principal{Role: RoleExecutive}, "legal", true},
		{"supervisor who names departments serves those", Principal{Role: RoleSupervisor, Departments: []string{"shipping"}}, "billing", false},
		{"a case without a department: anyone at its tier", Principal{Role: RoleAgent}, "", true},
	} {
		assert.Equal(t, tt.serve, tt.p.InDepartment(tt.dept), tt.name)
	}
	assert.True(t, RoleAgent.RequiresDepartments())
	assert.True(t, RoleSpecialist.RequiresDepartments())
	assert.False(t, RoleSupervisor.RequiresDepartments())
	assert.False(t, RoleExecutive.RequiresDepartments())
}

func TestAllowsSourceScopesIntegrations(t *testing.T) {
	scoped := Principal{Role: RoleIntegration, AllowedSources: []string{"zendesk", "help-scout"}}
	assert.True(t, scoped.AllowsSource("zendesk"))
	assert.True(t, scoped.AllowsSource("help-scout"))
	assert.False(t, scoped.AllowsSource("salesforce"))
	assert.False(t, scoped.AllowsSource("Zendesk"), "sources compare exactly, as case IDs do")
	assert.False(t, scoped.AllowsSource(""))
	assert.True(t, Principal{Role: RoleIntegration}.AllowsSource("salesforce"), "an unscoped integration reaches every source")
	assert.True(t, Principal{Role: RoleSupervisor, AllowedSources: []string{"zendesk"}}.AllowsSource("salesforce"),
		"staff are not scoped by source")
}

func TestStaffMemberValidateRequiresDepartments(t *testing.T) {
	m := StaffMember{ID: "a1", Name: "Alex", Email: "alex@support.example.com", Role: RoleAgent, Tier: TierFrontline,
		Departments: []string{"billing"}, Active: true}
	assert.NoError(t, m.Validate())
	for _, role := range []Role{RoleAgent, RoleSpecialist} {
		none := m
		none.Role, none.Departments = role, nil
		assert.ElementsMatch(t, []string{"departments"}, fieldsOf(t, none.Validate()), role)
		none.Departments = []string{" "}
		assert.ElementsMatch(t, []string{"departments"}, fieldsOf(t, none.Validate()), role)
	}
	sup := m
	sup.Role, sup.Tier, sup.Departments = RoleSupervisor, TierSupervisor, nil
	assert.NoError(t, sup.Validate(), "a supervisor without departments oversees all")
	assert.ElementsMatch(t, []string{"id", "name", "email", "role", "tier"}, fieldsOf(t, StaffMember{Role: "boss"}.Validate()))
}
