package tierflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMessageKinds(t *testing.T) {
	seen := map[MessageKind]bool{}
	for _, k := range MessageKinds {
		assert.True(t, k.Valid(), k)
		assert.False(t, seen[k], "%s listed twice", k)
		seen[k] = true
		// Staff kinds are named staff_*; every other kind is for the customer.
		want := AudienceCustomer
		if strings.HasPrefix(string(k), "staff_") {
			want = AudienceStaff
		}
		assert.Equal(t, want, k.Audience(), k)
	}
	assert.False(t, MessageKind("nope").Valid())
}
