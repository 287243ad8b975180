// Package policyfile loads escalation policies from YAML files: the operator's own
// files named by configuration, and the two that ship embedded, "standard"
// (default.yaml, escalation.md's defaults) and "fast" (fast.yaml, the same process
// with clocks in seconds for demos and black-box tests).
//
// A file is YAML converted to JSON and decoded strictly into a tierflow.Policy:
// unknown fields, wrong kinds of values and duplicate keys are errors, each named by
// its path ("priorities.high.acknowledge.default"); then Policy.Validate runs.
package policyfile

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/tierflow/tierflow"
)

// Names of the embedded policies.
const (
	StandardName = "standard"
	FastName     = "fast"
)

var (
	//go:embed default.yaml
	defaultYAML []byte
	//go:embed fast.yaml
	fastYAML []byte
)

// Parse reads a policy from YAML (or JSON, which is YAML) and validates it. Errors are
// *tierflow.Error: CodeMalformed when the text is not YAML, CodeInvalid with one
// field error per problem otherwise.
func Parse(data []byte) (tierflow.Policy, error) {
	var p tierflow.Policy
	if len(bytes.TrimSpace(data)) == 0 {
		return p, tierflow.Errorf(tierflow.CodeInvalid, "empty policy")
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return p, &tierflow.Error{Code: tierflow.CodeMalformed,
			Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "), Err: err}
	}

	var generic any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return p, &tierflow.Error{Code: tierflow.CodeMalformed, Message: "cannot read the policy", Err: err}
	}
	if _, ok := generic.(map[string]any); !ok {
		return p, tierflow.Errorf(tierflow.CodeInvalid, "a policy is a mapping of fields (name, version, tiers, ...)")
	}
	var v tierflow.Validation
	checkShape(&v, "", generic, reflect.TypeFor[tierflow.Policy]())
	if err := v.Err("invalid policy"); err != nil {
		return p, err
	}

	strict := json.NewDecoder(bytes.NewReader(js))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&p); err != nil {
		// checkShape should have caught it; keep the decoder's word for it.
		return tierflow.Policy{}, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid policy: " + err.Error(), Err: err}
	}
	for name, c := range p.Calendars {
		if c.Name == "" {
			c.Name = name
			p.Calendars[name] = c
		}
	}
	if err := p.Validate(); err != nil {
		return tierflow.Policy{}, err
	}
	return p, nil
}

// Load reads and parses the policy file at path; errors name the file.
func Load(path string) (tierflow.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tierflow.Policy{}, fmt.Errorf("policy file %s: %w", path, err)
	}
	p, err := Parse(data)
	if err != nil {
		return tierflow.Policy{}, fmt.Errorf("policy file %s: %w", filepath.Clean(path), err)
	}
	return p, nil
}

// Default is the embedded standard policy (default.yaml): escalation.md's defaults,
// business hours in UTC (see InTimeZone).
func Default() tierflow.Policy { return mustParse("default.yaml", defaultYAML) }

// Fast is the embedded demo policy (fast.yaml): every clock in seconds, 24x7.
func Fast() tierflow.Policy { return mustParse("fast.yaml", fastYAML) }

// DefaultYAML returns the text of the embedded default.yaml, a starting point for an
// operator's own file.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// mustParse parses an embedded file afresh on every call, so callers never share
// maps or slices. The files are tested: a failure is a bug in this package.
func mustParse(name string, data []byte) tierflow.Policy {
	p, err := Parse(data)
	if err != nil {
		panic(fmt.Sprintf("policyfile: embedded %s: %v", name, err))
	}
	return p
}

// InTimeZone returns p with every business-hours calendar moved to zone (an IANA
// name such as "Europe/Paris"), validated. The policy's version is unchanged: use it
// when starting a process, before any case pins the policy.
func InTimeZone(p tierflow.Policy, zone string) (tierflow.Policy, error) {
	cals := make(map[string]tierflow.Calendar, len(p.Calendars))
	for name, c := range p.Calendars {
		if !c.AlwaysOpen {
			c.TimeZone = zone
		}
		cals[name] = c
	}
	p.Calendars = cals
	if err := p.Validate(); err != nil {
		return tierflow.Policy{}, fmt.Errorf("policy %s in time zone %q: %w", p.Name, zone, err)
	}
	return p, nil
}
