package main

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

// servedDecisionRequest loads the served openapi.yaml and returns its DecisionRequest.
func servedDecisionRequest(t *testing.T) *openapi3.Schema {
	t.Helper()
	env := newTestEnv(t)
	rec := env.do(request{method: "GET", path: "/openapi.yaml"})
	require.Equal(t, http.StatusOK, rec.Code)
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	require.NoError(t, err)
	ref, ok := doc.Components.Schemas["DecisionRequest"]
	require.True(t, ok, "the document has a DecisionRequest")
	return ref.Value
}

// enumOf returns the action enum of a DecisionRequest.
func enumOf(t *testing.T, s *openapi3.Schema) []tierflow.Action {
	t.Helper()
	prop, ok := s.Properties["action"]
	require.True(t, ok)
	var out []tierflow.Action
	for _, v := range prop.Value.Enum {
		name, ok := v.(string)
		require.True(t, ok, "enum value %v is a string", v)
		out = append(out, tierflow.Action(name))
	}
	return out
}

// The served document's DecisionRequest comes from tierflow.ActionSpecs: the action
// enum is tierflow.Actions, its properties are the fields the actions name, each
// property says which actions require it and which take it optionally, and the
// schema's description lists each action's fields.
func TestOpenAPIDecisionRequestComesFromTheActionTable(t *testing.T) {
	schema := servedDecisionRequest(t)
	assert.Equal(t, tierflow.Actions, enumOf(t, schema), "the action enum is tierflow.Actions, in order")

	requiredBy, optionalFor := map[string][]string{}, map[string][]string{}
	for _, s := range tierflow.ActionSpecs {
		for _, f := range s.Required {
			requiredBy[f] = append(requiredBy[f], string(s.Action))
		}
		for _, f := range s.Optional {
			optionalFor[f] = append(optionalFor[f], string(s.Action))
		}
		line := lineOf(schema.Description, "- `"+string(s.Action)+"`")
		if assert.NotEmpty(t, line, "the description lists %s", s.Action) {
			assert.True(t, strings.HasSuffix(line, ": "+s.Doc), "%s's line ends with its doc: %q", s.Action, line)
			for _, f := range append(append([]string{}, s.Required...), s.Optional...) {
				assert.Contains(t, line, f, "%s's line names its field %s", s.Action, f)
			}
		}
	}
	// One line written out by hand, so the format itself is pinned.
	assert.Contains(t, schema.Description, "- `escalate` mode, reason, summary [department]: ")
	for field := range mergeKeys(requiredBy, optionalFor) {
		prop, ok := schema.Properties[field]
		if !assert.True(t, ok, "DecisionRequest has no property %q, which an action names", field) {
			continue
		}
		desc := prop.Value.Description
		first, _, _ := strings.Cut(desc, ".")
		var gotRequired, gotOptional []string
		for _, part := range strings.Split(first, "; ") {
			switch {
			case strings.HasPrefix(part, "Required by "):
				gotRequired = strings.Split(strings.TrimPrefix(part, "Required by "), ", ")
			case strings.HasPrefix(strings.ToLower(part), "optional for "):
				gotOptional = strings.Split(part[len("optional for "):], ", ")
			}
		}
		assert.Equal(t, requiredBy[field], gotRequired, "%s: actions requiring it, in %q", field, desc)
		assert.Equal(t, optionalFor[field], gotOptional, "%s: actions taking it optionally, in %q", field, desc)
	}
	for name := range schema.Properties {
		_, named := mergeKeys(requiredBy, optionalFor)[name]
		assert.True(t, named || name == "action" || name == "decision_id",
			"DecisionRequest property %q is a field no action names", name)
	}
	assert.Equal(t, jsonFields(reflect.TypeFor[decisionRequest]()), slices.Sorted(mapKeys(schema.Properties)),
		"the document's DecisionRequest properties are the request's JSON fields")
}

// lineOf returns the line of doc that starts with prefix ("" when none).
func lineOf(doc, prefix string) string {
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, prefix+" ") || strings.HasPrefix(l, prefix+":") {
			return l
		}
	}
	return ""
}

func mergeKeys(ms ...map[string][]string) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// jsonFields lists the JSON names a body of type t takes, sorted: the Decision's
// fields without its actor and its policy snapshot (both set by the server), for
// decisionRequest.
func jsonFields(t reflect.Type) []string {
	var out []string
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous || name == "" || name == "-" || name == "actor" || name == "policy_snapshot" {
			continue
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// fillDecisionActions refuses a template that lost a placeholder, so the API does not
// start serving a contract without its actions.
func TestFillDecisionActionsNeedsItsPlaceholders(t *testing.T) {
	_, err := fillDecisionActions(openAPITemplate)
	require.NoError(t, err)
	_, err = fillDecisionActions(strings.Replace(openAPITemplate, "[TIERFLOW_ACTIONS]", "[acknowledge]", 1))
	assert.ErrorContains(t, err, "TIERFLOW_ACTIONS")
	_, err = fillDecisionActions(strings.Replace(openAPITemplate, "TIERFLOW_ACTION_FIELDS", "", 1))
	assert.ErrorContains(t, err, "TIERFLOW_ACTION_FIELDS")
	_, err = fillDecisionActions(strings.Replace(openAPITemplate, "TIERFLOW_TAKEN_BY(text)", "TIERFLOW_TAKEN_BY(txt)", 1))
	assert.ErrorContains(t, err, `no action of tierflow.ActionSpecs takes "txt"`)
	assert.NotContains(t, string(openAPIDocument), "TIERFLOW_TAKEN_BY")
	assert.NotContains(t, string(openAPIDocument), "TIERFLOW_ACTION")
}

// The views of the decision actions side by side: the table, the served OpenAPI
// enum, the decide Update's description and the decide handler's validation all
// know every action. (The CLI's help is checked in starter's
// TestDecideHelpComesFromTheActionTable; starter is a main package.)
func TestEveryDecisionActionInEveryView(t *testing.T) {
	enum := enumOf(t, servedDecisionRequest(t))
	desc := workflows.DecideDescription()
	require.Len(t, tierflow.Actions, len(tierflow.ActionSpecs))
	for _, a := range tierflow.Actions {
		spec, ok := tierflow.SpecOf(a)
		require.True(t, ok, "%s has a declaration", a)
		assert.True(t, a.Valid(), "%s is valid", a)
		assert.Contains(t, enum, a, "the OpenAPI enum has %s", a)
		assert.Contains(t, desc, " "+string(a)+": "+spec.Doc, "the decide Update's description has %s", a)
		var invalid *tierflow.Error
		if err := (tierflow.Decision{Action: a}).Validate(); errors.As(err, &invalid) {
			for _, f := range invalid.Fields {
				assert.NotEqual(t, "action", f.Field, "validation knows %s: %s", a, f.Message)
			}
		}
	}
	assert.Len(t, enum, len(tierflow.Actions), "the OpenAPI enum has no other action")
}
