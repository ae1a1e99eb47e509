package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS41normKrakenPriceUnitsRemembered: Kraken v2 "executions" sends
// only what changed, and limit_price_type / triggers.price_type (static,
// pct, quote: "amend_order", "add_order") come with the report that
// carries them. An "amended" report of the same order that sends the new
// limit_price or triggers.price without its units was read by the order
// type's default: a pct trigger's new offset (3.0) became a StopPrice of
// 3, and a trailing-stop-limit's static limit (41100.5) was taken for a
// quote offset and lost. The units the order's reports said are
// remembered with the order and read with its later prices.
func TestS41normKrakenPriceUnitsRemembered(t *testing.T) {
	const head = `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","order_qty":0.5,"side":"sell","exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z",`
	const amended = `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","exec_type":"amended","order_status":"new","amended":true,"timestamp":"2024-01-02T03:04:05.000000Z",`
	for _, c := range []struct {
		name, placed, amend string
		wantPrice, wantSP   string // "" = zero, unknown
	}{
		{"take-profit pct trigger", `"order_type":"take-profit","triggers":{"reference":"last","price":2.5,"price_type":"pct","status":"untriggered"}`,
			`"triggers":{"reference":"last","price":3.0,"status":"untriggered"}`, "", ""},
		{"stop-loss-limit quote trigger", `"order_type":"stop-loss-limit","limit_price":40000,"triggers":{"reference":"index","price":150,"price_type":"quote"}`,
			`"limit_price":39900,"triggers":{"reference":"index","price":160}`, "39900", ""},
		{"trailing-stop-limit static limit", `"order_type":"trailing-stop-limit","limit_price":41000.5,"limit_price_type":"static","triggers":{"reference":"last","price":1.5,"price_type":"pct"}`,
			`"limit_price":41100.5`, "41100.5", ""},
		{"trailing-stop static trigger", `"order_type":"trailing-stop","triggers":{"reference":"last","price":40100,"price_type":"static"}`,
			`"triggers":{"reference":"last","price":40200}`, "", "40200"},
		{"said again: the new units stand", `"order_type":"take-profit","triggers":{"reference":"last","price":2.5,"price_type":"pct"}`,
			`"triggers":{"reference":"last","price":40200,"price_type":"static"}`, "", "40200"},
		{"stop-loss default static", `"order_type":"stop-loss","triggers":{"reference":"last","price":40100}`,
			`"triggers":{"reference":"last","price":40200}`, "", "40200"},
	} {
		f := newConnFeed(t, schema.VenueKraken)
		evs, err := f.feed(1, head+c.placed+`}],"sequence":1}`)
		require.NoError(t, err, c.name)
		require.Len(t, evs, 1, c.name)
		evs, err = f.feed(1, amended+c.amend+`}],"sequence":2}`)
		require.NoError(t, err, c.name)
		require.Len(t, evs, 1, c.name)
		x := evs[0].Exec
		require.Equal(t, schema.ExecAmendment, x.ExecType, c.name)
		assert.Equal(t, c.wantPrice, decOrEmpty(x.Price), "%s: Price", c.name)
		assert.Equal(t, c.wantSP, decOrEmpty(x.StopPrice), "%s: StopPrice", c.name)
	}
}
