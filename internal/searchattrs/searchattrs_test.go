package searchattrs

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	"github.com/tierflow/tierflow/workflows"
)

// fakeClient answers ListSearchAttributes from attrs (or with err); every other
// method of client.Client panics (nil embedded interface).
type fakeClient struct {
	client.Client
	operator fakeOperator
}

func (c *fakeClient) OperatorService() operatorservice.OperatorServiceClient { return &c.operator }

type fakeOperator struct {
	operatorservice.OperatorServiceClient
	attrs     map[string]enums.IndexedValueType
	err       error
	namespace string
}

func (o *fakeOperator) ListSearchAttributes(_ context.Context, req *operatorservice.ListSearchAttributesRequest,
	_ ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error) {
	o.namespace = req.GetNamespace()
	if o.err != nil {
		return nil, o.err
	}
	return &operatorservice.ListSearchAttributesResponse{CustomAttributes: o.attrs}, nil
}

var enumOf = map[string]enums.IndexedValueType{
	"Int": enums.INDEXED_VALUE_TYPE_INT, "Keyword": enums.INDEXED_VALUE_TYPE_KEYWORD,
	"Bool": enums.INDEXED_VALUE_TYPE_BOOL, "Datetime": enums.INDEXED_VALUE_TYPE_DATETIME,
}

func allRegistered(t *testing.T) map[string]enums.IndexedValueType {
	attrs := map[string]enums.IndexedValueType{}
	for _, sa := range workflows.SearchAttributeTypes {
		typ, ok := enumOf[sa[1]]
		require.True(t, ok, "unknown type %q of %s", sa[1], sa[0])
		attrs[sa[0]] = typ
	}
	return attrs
}

func TestMissing(t *testing.T) {
	ctx := context.Background()

	c := &fakeClient{operator: fakeOperator{attrs: allRegistered(t)}}
	missing, err := Missing(ctx, c, "tierflow")
	require.NoError(t, err)
	assert.Empty(t, missing)
	assert.Equal(t, "tierflow", c.operator.namespace)

	attrs := allRegistered(t)
	delete(attrs, "CaseTier")
	attrs["NextDeadline"] = enums.INDEXED_VALUE_TYPE_KEYWORD // registered with the wrong type
	attrs["SomeoneElses"] = enums.INDEXED_VALUE_TYPE_TEXT
	c = &fakeClient{operator: fakeOperator{attrs: attrs}}
	missing, err = Missing(ctx, c, "default")
	require.NoError(t, err)
	assert.Equal(t, []string{"CaseTier=Int", "NextDeadline=Datetime"}, missing)

	c = &fakeClient{operator: fakeOperator{}}
	missing, err = Missing(ctx, c, "default")
	require.NoError(t, err)
	assert.Len(t, missing, len(workflows.SearchAttributeTypes))

	denied := errors.New("permission denied")
	c = &fakeClient{operator: fakeOperator{err: denied}}
	_, err = Missing(ctx, c, "default")
	assert.ErrorIs(t, err, denied)
}

func TestSameType(t *testing.T) {
	assert.True(t, sameType("INDEXED_VALUE_TYPE_DATETIME", "Datetime"))
	assert.True(t, sameType("INDEXED_VALUE_TYPE_KEYWORD_LIST", "KeywordList"))
	assert.True(t, sameType("INDEXED_VALUE_TYPE_KEYWORD_LIST", "Keyword_List"))
	assert.False(t, sameType("INDEXED_VALUE_TYPE_KEYWORD", "KeywordList"))
	assert.False(t, sameType("INDEXED_VALUE_TYPE_TEXT", "Keyword"))
}

func TestIndexedValueType(t *testing.T) {
	for _, sa := range workflows.SearchAttributeTypes {
		typ, err := indexedValueType(sa[1])
		require.NoError(t, err, sa[0])
		assert.True(t, sameType(typ.String(), sa[1]), "%s: %s", sa[0], typ)
	}
	typ, err := indexedValueType("KeywordList")
	require.NoError(t, err)
	assert.Equal(t, enums.INDEXED_VALUE_TYPE_KEYWORD_LIST, typ)
	_, err = indexedValueType("Money")
	assert.ErrorContains(t, err, "unknown")
}
