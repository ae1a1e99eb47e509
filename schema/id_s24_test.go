package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Bytes "aliases id", and IDs of the same identifier are == "however each
// was set". A caller that appends to the slice Bytes returns — the usual
// way to build a key from bytes, buf := append(id.Bytes(), '-', …) — must
// not write into the ID past its length, where == would see it.
func TestS24AppendToBytesLeavesTheIDAlone(t *testing.T) {
	t.Parallel()
	id := schema.MustID("OQCLML-BW3P3-BUCMWZ")
	key := append(id.Bytes(), "-fill-1"...)
	assert.Equal(t, "OQCLML-BW3P3-BUCMWZ-fill-1", string(key))
	require.Equal(t, schema.MustID("OQCLML-BW3P3-BUCMWZ"), id, "== to the same identifier set afresh")
	m := map[schema.ID]int{schema.MustID("OQCLML-BW3P3-BUCMWZ"): 1}
	assert.Equal(t, 1, m[id], "still the map key of its identifier")

	// Writing inside the length is writing the ID: that stays so.
	b := id.Bytes()
	b[0] = 'X'
	assert.Equal(t, "XQCLML-BW3P3-BUCMWZ", id.String())
}
