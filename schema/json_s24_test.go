package schema_test

import (
	"context"
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A host logs or forwards the events it receives as JSON through the
// module's JSON library (goccy/go-json v2). The pool.Header every schema
// type embeds is the pool's bookkeeping, not data: it must neither stop
// the encoding (v2 refuses a struct with no exported fields) nor travel.
func TestS24SchemaTypesEncodeAsJSON(t *testing.T) {
	t.Parallel()
	pools := schema.NewPools(nil)
	ctx := context.Background()

	ev, err := pools.Events.Get(ctx)
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventBookUpdate
	ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.MustParseDecimal("67321.45000000"), Qty: schema.MustParseDecimal("0.50")})
	ev.Trade.ID = schema.MustID("123456789")
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"67321.45000000"`)
	var back schema.CanonicalEvent
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, ev.Book.Bids, back.Book.Bids)
	assert.Equal(t, ev.Trade.ID, back.Trade.ID)
	assert.False(t, back.Pooled(), "a decoded event is no pool's")
	require.NotPanics(t, func() { pools.Events.Put(ev) })

	for name, v := range map[string]any{
		"WsFrame":      &schema.WsFrame{Provider: schema.VenueOKX, Data: []byte(`{}`)},
		"ProviderRaw":  &schema.ProviderRaw{Provider: schema.VenueOKX, Payload: []byte(`{}`)},
		"MergedEvent":  &schema.MergedEvent{Symbol: "BTC-USDT", BestBid: schema.MustParseDecimal("1.0")},
		"OrderRequest": &schema.OrderRequest{Symbol: "BTC-USDT", Qty: schema.MustParseDecimal("0.001"), ClientOrderID: schema.MustID("c-1")},
		"ExecReport":   &schema.ExecReport{Symbol: "BTC-USDT"},
	} {
		b, err := json.Marshal(v)
		require.NoError(t, err, name)
		assert.NotContains(t, string(b), "Header", name)
	}
	require.NoError(t, pools.Shutdown(ctx))
}
