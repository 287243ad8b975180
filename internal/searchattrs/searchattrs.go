// Package searchattrs checks that a Temporal namespace has the custom search
// attributes the case workflow upserts (workflows.SearchAttributeTypes), and registers
// them where they are missing. The worker runs the check at start; the dev server
// harness waits on it after starting; the full server's harness registers them.
package searchattrs

import (
	"context"
	"fmt"
	"strings"

	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow/workflows"
)

// Missing lists, as "Name=Type", the entries of workflows.SearchAttributeTypes that
// the namespace does not have with the expected type. It needs the operator API.
func Missing(ctx context.Context, c client.Client, namespace string) ([]string, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	var missing []string
	for _, sa := range workflows.SearchAttributeTypes {
		got, ok := resp.GetCustomAttributes()[sa[0]]
		if !ok || !sameType(got.String(), sa[1]) {
			missing = append(missing, sa[0]+"="+sa[1])
		}
	}
	return missing, nil
}

// sameType compares an IndexedValueType enum name ("INDEXED_VALUE_TYPE_KEYWORD_LIST")
// with the CLI's type name ("KeywordList").
func sameType(enumName, cliName string) bool {
	bare := func(s string) string { return strings.ReplaceAll(s, "_", "") }
	return strings.EqualFold(bare(strings.TrimPrefix(enumName, "INDEXED_VALUE_TYPE_")), bare(cliName))
}

// Register adds to the namespace every entry of workflows.SearchAttributeTypes it
// lacks, through the operator API (what `temporal operator search-attribute create`
// does), for a server started without them: the full server of `make prod-local`.
// It is a no-op when all are there; an attribute registered with another type is
// an error (the server refuses to change a type).
func Register(ctx context.Context, c client.Client, namespace string) error {
	missing, err := Missing(ctx, c, namespace)
	if err != nil || len(missing) == 0 {
		return err
	}
	add := make(map[string]enums.IndexedValueType, len(missing))
	for _, sa := range missing {
		name, typeName, _ := strings.Cut(sa, "=")
		typ, err := indexedValueType(typeName)
		if err != nil {
			return err
		}
		add[name] = typ
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: add,
	})
	if err != nil {
		return fmt.Errorf("add search attributes %v: %w", missing, err)
	}
	return nil
}

// indexedValueType is the enum value of a CLI type name ("KeywordList").
func indexedValueType(cliName string) (enums.IndexedValueType, error) {
	for value, name := range enums.IndexedValueType_name {
		if value != 0 && sameType(name, cliName) {
			return enums.IndexedValueType(value), nil
		}
	}
	return 0, fmt.Errorf("unknown search attribute type %q", cliName)
}
