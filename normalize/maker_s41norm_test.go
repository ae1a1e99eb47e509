package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS41normCoinbasePostOnlyFillIsMaker: the Advanced Trade user channel
// carries no liquidity flag, so a fill's IsMaker false means "not known"
// (the schema has no third state). A post-only order is the exception the
// order itself tells: Coinbase rejects a post_only order that would match
// as a taker (Coinbase "Post Only": if any part of the order crosses the
// spread, the order is not executed), so each of its fills made
// liquidity. Before s41norm its fills said IsMaker false like any other;
// a plain limit order's fills still say false (unknown).
func TestS41normCoinbasePostOnlyFillIsMaker(t *testing.T) {
	postOnly := func(msg []byte) []byte {
		return []byte(strings.Replace(string(msg), `"post_only":"false"`, `"post_only":true`, 1))
	}
	for _, c := range []struct {
		name  string
		shape func([]byte) []byte
		typ   schema.OrderType
		maker bool
	}{
		{"post-only limit", postOnly, schema.OrderTypeLimitMaker, true},
		{"limit", func(m []byte) []byte { return m }, schema.OrderTypeLimit, false},
	} {
		open := c.shape(coinbaseUser("update", "OPEN", "0", "1", "0", "0"))
		part := c.shape(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000", "-2"))
		evs, err := parseOne(t, schema.VenueCoinbase, open, part)
		require.NoError(t, err, c.name)
		require.Len(t, evs, 1, c.name)
		x := evs[0].Exec
		require.Equal(t, schema.ExecTrade, x.ExecType, c.name)
		require.Equal(t, c.typ, x.Type, c.name)
		assert.Equal(t, "0.4", x.LastFillQty.String(), c.name)
		assert.Equal(t, c.maker, x.IsMaker, c.name)
	}
}
