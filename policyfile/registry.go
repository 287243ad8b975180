package policyfile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tierflow/tierflow"
)

// Registry holds the policies a process offers by name. A new case names its policy
// (OpenCaseRequest.Policy, "" meaning "standard") and pins a snapshot of it.
// A Registry is read-only after construction and safe for concurrent use.
type Registry struct {
	policies map[string]tierflow.Policy
}

// NewRegistry holds the embedded "standard" and "fast" policies plus extra; an extra
// policy with the name of an embedded one replaces it (an operator's own standard).
func NewRegistry(extra ...tierflow.Policy) *Registry {
	r := &Registry{policies: map[string]tierflow.Policy{
		StandardName: Default(),
		FastName:     Fast(),
	}}
	for _, p := range extra {
		r.policies[p.Name] = p
	}
	return r
}

// LoadRegistry is NewRegistry with the policies of the files at paths. Two files
// defining the same policy name are an error.
func LoadRegistry(paths ...string) (*Registry, error) {
	var extra []tierflow.Policy
	from := map[string]string{}
	for _, path := range paths {
		p, err := Load(path)
		if err != nil {
			return nil, err
		}
		if other, dup := from[p.Name]; dup {
			return nil, fmt.Errorf("policy file %s: policy %q is already defined by %s", path, p.Name, other)
		}
		from[p.Name] = path
		extra = append(extra, p)
	}
	return NewRegistry(extra...), nil
}

// Get returns the policy called name; "" means "standard". The policy's maps are
// shared: treat it as read-only (a case pins a serialized snapshot anyway).
func (r *Registry) Get(name string) (tierflow.Policy, bool) {
	if name == "" {
		name = StandardName
	}
	p, ok := r.policies[name]
	return p, ok
}

// Names lists the registered policy names in order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.policies))
	for name := range r.policies {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// SplitPaths reads a comma-separated list of policy files (TIERFLOW_POLICY_FILES),
// ignoring blanks.
func SplitPaths(list string) []string {
	var paths []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	return paths
}
