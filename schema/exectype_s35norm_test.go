package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// ExecOrderStatus (FIX ExecType I) and ExecRestated (FIX ExecType D) are
// appended: the values before them are carried as bytes by a wire
// (contrib/natsbridge) and must keep their numbers.
func TestS35ExecTypesAppended(t *testing.T) {
	assert.Equal(t, schema.ExecType(11), schema.ExecTriggered)
	assert.Equal(t, schema.ExecType(12), schema.ExecOrderStatus)
	assert.Equal(t, schema.ExecType(13), schema.ExecRestated)
	assert.Equal(t, "order_status", schema.ExecOrderStatus.String())
	assert.Equal(t, "restated", schema.ExecRestated.String())
	assert.Equal(t, "unknown", schema.ExecType(14).String(), "past the last: unknown, no panic")
	seen := map[string]schema.ExecType{}
	for e := schema.ExecUnknown; e <= schema.ExecRestated; e++ {
		name := e.String()
		_, dup := seen[name]
		assert.False(t, dup, "%d and %d share the name %q", seen[name], e, name)
		seen[name] = e
	}
}
