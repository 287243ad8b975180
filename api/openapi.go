package main

import (
	_ "embed"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/tierflow/tierflow"
)

// openAPITemplate is openapi.yaml as written: the decision actions are placeholders
// that openAPIDocument fills from tierflow.ActionSpecs, so adding an action needs no
// edit of the YAML.
//
//go:embed openapi.yaml
var openAPITemplate string

// openAPIDocument is the served contract: openapi.yaml with the decision actions
// filled in. A template that lost a placeholder stops the API at start-up.
var openAPIDocument = func() []byte {
	doc, err := fillDecisionActions(openAPITemplate)
	if err != nil {
		panic("openapi.yaml: " + err.Error())
	}
	return []byte(doc)
}()

// serveOpenAPI: GET /openapi.yaml, the contract the handlers are tested against.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPIDocument)
}

// The placeholders of openapi.yaml.
const (
	// actionsPlaceholder is the DecisionRequest's action enum: [TIERFLOW_ACTIONS].
	actionsPlaceholder = "TIERFLOW_ACTIONS"
	// actionFieldsPlaceholder, alone on a line of a block scalar, becomes one line
	// per action: its required fields, [its optional ones], its doc.
	actionFieldsPlaceholder = "TIERFLOW_ACTION_FIELDS"
)

var (
	// takenByPlaceholder, in a quoted description of a DecisionRequest property,
	// becomes the actions requiring the field and those taking it optionally.
	takenByPlaceholder     = regexp.MustCompile(`TIERFLOW_TAKEN_BY\(([a-z_]+)\)`)
	actionFieldsLine       = regexp.MustCompile(`(?m)^( *)` + actionFieldsPlaceholder + `$`)
	actionsEnumPlaceholder = "[" + actionsPlaceholder + "]"
)

// fillDecisionActions replaces the placeholders of doc from tierflow.ActionSpecs.
func fillDecisionActions(doc string) (string, error) {
	if strings.Count(doc, actionsEnumPlaceholder) != 1 {
		return "", fmt.Errorf("want one %s (the decision action enum)", actionsEnumPlaceholder)
	}
	names := make([]string, len(tierflow.Actions))
	for i, a := range tierflow.Actions {
		names[i] = string(a)
	}
	doc = strings.Replace(doc, actionsEnumPlaceholder, "["+strings.Join(names, ", ")+"]", 1)

	if len(actionFieldsLine.FindAllStringIndex(doc, -1)) != 1 {
		return "", fmt.Errorf("want one line %s (the fields of each action)", actionFieldsPlaceholder)
	}
	doc = actionFieldsLine.ReplaceAllStringFunc(doc, func(line string) string {
		indent := line[:len(line)-len(strings.TrimLeft(line, " "))]
		var lines []string
		for _, s := range tierflow.ActionSpecs {
			lines = append(lines, indent+"- "+actionFields(s)+": "+s.Doc)
		}
		return strings.Join(lines, "\n")
	})

	var err error
	doc = takenByPlaceholder.ReplaceAllStringFunc(doc, func(m string) string {
		field := takenByPlaceholder.FindStringSubmatch(m)[1]
		text := takenBy(field)
		if text == "" && err == nil {
			err = fmt.Errorf("%s: no action of tierflow.ActionSpecs takes %q", m, field)
		}
		return text
	})
	if err != nil {
		return "", err
	}
	if i := strings.Index(doc, "TIERFLOW_TAKEN_BY"); i >= 0 {
		return "", fmt.Errorf("a malformed placeholder is left: %.40q", doc[i:])
	}
	return doc, nil
}

// actionFields writes an action with its fields: "`escalate` mode, reason, summary
// [department]".
func actionFields(s tierflow.ActionSpec) string {
	out := "`" + string(s.Action) + "`"
	if len(s.Required) > 0 {
		out += " " + strings.Join(s.Required, ", ")
	}
	if len(s.Optional) > 0 {
		out += " [" + strings.Join(s.Optional, ", ") + "]"
	}
	return out
}

// takenBy describes which actions take field: "Required by escalate, transfer;
// optional for reassign.", or "" when none does.
func takenBy(field string) string {
	var required, optional []string
	for _, s := range tierflow.ActionSpecs {
		if slices.Contains(s.Required, field) {
			required = append(required, string(s.Action))
		}
		if slices.Contains(s.Optional, field) {
			optional = append(optional, string(s.Action))
		}
	}
	var parts []string
	if len(required) > 0 {
		parts = append(parts, "Required by "+strings.Join(required, ", "))
	}
	if len(optional) > 0 {
		o := "optional for " + strings.Join(optional, ", ")
		if len(parts) == 0 {
			o = "Optional for " + strings.Join(optional, ", ")
		}
		parts = append(parts, o)
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "."
}
