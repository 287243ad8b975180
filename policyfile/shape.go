package policyfile

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/tierflow/tierflow"
)

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// checkShape walks a generically decoded JSON value (objects as map[string]any,
// numbers as json.Number) against the Go type it will be decoded into, and records
// every unknown field and every value of the wrong kind under its JSON path
// ("priorities.high.acknowledge.default"). encoding/json alone reports only the
// first problem, and an unknown field without its path.
func checkShape(v *tierflow.Validation, path string, val any, t reflect.Type) {
	if val == nil {
		return // null: the zero value, judged by Policy.Validate
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		raw, err := json.Marshal(val)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw)
		}
		if err != nil {
			v.Add(path, "%s", err.Error())
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkShape(v, path, val, t.Elem())
	case reflect.Struct:
		checkStruct(v, path, val, t)
	case reflect.Map:
		obj, ok := val.(map[string]any)
		if !ok {
			v.Add(path, "must be a mapping of names to values")
			return
		}
		for _, k := range sortedKeys(obj) {
			if isInt(t.Key().Kind()) {
				if _, err := strconv.Atoi(k); err != nil {
					v.Add(join(path, k), "key must be a number")
					continue
				}
			}
			checkShape(v, join(path, k), obj[k], t.Elem())
		}
	case reflect.Slice:
		list, ok := val.([]any)
		if !ok {
			v.Add(path, "must be a list")
			return
		}
		for i, item := range list {
			checkShape(v, fmt.Sprintf("%s[%d]", path, i), item, t.Elem())
		}
	case reflect.String:
		if _, ok := val.(string); !ok {
			v.Add(path, "must be a string (quote it)")
		}
	case reflect.Bool:
		if _, ok := val.(bool); !ok {
			v.Add(path, "must be true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := val.(json.Number)
		if ok {
			_, err := n.Int64()
			ok = err == nil
		}
		if !ok {
			v.Add(path, "must be a whole number")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := val.(json.Number); !ok {
			v.Add(path, "must be a number")
		}
	}
}

func checkStruct(v *tierflow.Validation, path string, val any, t reflect.Type) {
	obj, ok := val.(map[string]any)
	if !ok {
		v.Add(path, "must be a mapping of fields")
		return
	}
	fields := make(map[string]reflect.Type, t.NumField())
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	for _, k := range sortedKeys(obj) {
		ft, known := fields[k]
		if !known {
			v.Add(join(path, k), "unknown field%s", suggest(k, names))
			continue
		}
		checkShape(v, join(path, k), obj[k], ft)
	}
}

// suggest names the known field closest to an unknown one, if any is close.
func suggest(unknown string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(unknown), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return " (allowed: " + strings.Join(known, ", ") + ")"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func isInt(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Int64
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
