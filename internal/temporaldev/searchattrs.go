package temporaldev

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow/workflows"
)

// MissingSearchAttributes lists the names of workflows.SearchAttributeTypes that the
// namespace does not have with the expected type.
func MissingSearchAttributes(ctx context.Context, c client.Client, namespace string) ([]string, error) {
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

// sameType compares an IndexedValueType enum name ("INDEXED_VALUE_TYPE_DATETIME")
// with the CLI's type name ("Datetime").
func sameType(enumName, cliName string) bool {
	return strings.EqualFold(strings.TrimPrefix(enumName, "INDEXED_VALUE_TYPE_"), strings.ReplaceAll(cliName, "_", ""))
}
