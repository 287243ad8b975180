package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// The request body takes every field of tierflow.Decision by its JSON name and hands
// it on unchanged; only the actor comes from the token, and the policy snapshot
// from the registry (decide attaches it; a body naming one is refused).
func TestDecisionRequestCarriesEveryDecisionField(t *testing.T) {
	var d tierflow.Decision
	body := map[string]any{}
	v := reflect.ValueOf(&d).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch f.Type.Kind() {
		case reflect.String:
			v.Field(i).SetString("v-" + name)
			body[name] = "v-" + name
		case reflect.Int64:
			v.Field(i).SetInt(int64(i + 1))
			body[name] = i + 1
		case reflect.Struct, reflect.Pointer: // the actor, the policy snapshot
			continue
		default:
			t.Fatalf("Decision.%s: a kind this test does not fill", f.Name)
		}
	}
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	var req decisionRequest
	require.NoError(t, json.Unmarshal(raw, &req))
	actor := tierflow.Principal{ID: "agent-1", Role: tierflow.RoleAgent, Tier: 1}
	got, err := req.decision(actor)
	require.NoError(t, err)
	d.Actor = actor
	assert.Equal(t, d, got)

	require.NoError(t, json.Unmarshal([]byte(`{"action": "note", "actor": null}`), &req))
	_, err = req.decision(actor)
	assert.Error(t, err, "a body naming an actor, even null, is refused")

	req = decisionRequest{}
	require.NoError(t, json.Unmarshal([]byte(`{"action": "migrate_policy", "policy": "fast", "reason": "r", "policy_snapshot": {}}`), &req))
	_, err = req.decision(actor)
	assert.Error(t, err, "a body naming a policy snapshot is refused")
}
