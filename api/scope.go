package main

import (
	"net/http"
	"slices"

	"github.com/tierflow/tierflow"
)

// An integration token may be scoped to its CRM sources (TokenEntry.AllowedSources).
// A scoped integration opens cases only for its sources (403 for another: it named
// the source itself), and every other case is, to it, a case that does not exist:
// reading it, its timeline or sending it a customer event answers 404, and lists
// leave it out. An unscoped integration reaches every source (see
// tierflow.Principal.AllowsSource). Staff are not scoped by source.

// scopedCaseIDParam returns the {id} of the path when the caller may reach the
// case. A case of a source outside the caller's scope is answered like an unknown
// case (404), decided from the ID alone before any lookup, so the answer never
// depends on whether that case exists.
func scopedCaseIDParam(r *http.Request) (string, error) {
	id, err := caseIDParam(r)
	if err != nil {
		return "", err
	}
	source, _, ok := tierflow.SplitCaseID(id)
	if !ok || !principalFrom(r.Context()).AllowsSource(source) {
		return "", tierflow.Errorf(tierflow.CodeNotFound, "no case %s", id)
	}
	return id, nil
}

// mayOpenFor refuses an open request for a source outside the caller's scope.
func mayOpenFor(p tierflow.Principal, source string) error {
	if p.AllowsSource(source) {
		return nil
	}
	return tierflow.Errorf(tierflow.CodeForbidden, "this token may not open cases for source %q", source)
}

// scopeFilter narrows a list to the sources the caller may read. visible is false
// when the filter asks for a source outside the scope: the list is then empty.
func scopeFilter(p tierflow.Principal, f tierflow.CaseFilter) (scoped tierflow.CaseFilter, visible bool) {
	if p.Role != tierflow.RoleIntegration || len(p.AllowedSources) == 0 {
		return f, true
	}
	if f.Source != "" && !p.AllowsSource(f.Source) {
		return f, false
	}
	f.Sources = slices.Clone(p.AllowedSources)
	return f, true
}
