// Package searchattrs checks that a Temporal namespace has the custom search
// attributes the case workflow upserts (workflows.SearchAttributeTypes). The worker
// runs the check at start; the dev server harness waits on it after starting.
package searchattrs

import (
	"context"
	"fmt"
	"strings"

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
