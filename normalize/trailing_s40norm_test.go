package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS40normKrakenTrailingLimitOffset: Kraken v2 "amend_order" /
// "add_order": limit_price_type (static, pct, quote) is "currently only
// available on trailing-stop-limit orders … static is the default for all
// order types except for trailing-stop-limit which has the default quote
// offset"; triggers.price_type likewise says whether the trigger is a
// price (static, the default) or an offset (pct, quote). The executions
// channel reports limit_price as the order was placed: a
// trailing-stop-limit's limit_price without "static" is an offset ("+5"
// is 5 USD from the trigger), not a price. Before s40norm it was read as
// the order's limit Price. An offset is no price: Price (StopPrice) zero
// = unknown, on the report and on later reports that leave it out.
func TestS40normKrakenTrailingLimitOffset(t *testing.T) {
	const head = `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","order_qty":0.5,"side":"sell","exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z",`
	for _, c := range []struct {
		name, fields      string
		wantPrice, wantSP string // "" = zero
	}{
		{"default quote offset", `"order_type":"trailing-stop-limit","limit_price":5.0`, "", ""},
		{"quote offset", `"order_type":"trailing-stop-limit","limit_price":-150,"limit_price_type":"quote"`, "", ""},
		{"pct offset", `"order_type":"trailing-stop-limit","limit_price":1.5,"limit_price_type":"pct"`, "", ""},
		{"static limit", `"order_type":"trailing-stop-limit","limit_price":41000.5,"limit_price_type":"static"`, "41000.5", ""},
		{"trailing trigger pct", `"order_type":"trailing-stop","triggers":{"reference":"last","price":2.5,"price_type":"pct","status":"untriggered"}`, "", ""},
		{"stop-loss-limit static trigger", `"order_type":"stop-loss-limit","limit_price":40000,"triggers":{"reference":"index","price":40100,"price_type":"static"}`, "40000", "40100"},
		{"stop-loss trigger default static", `"order_type":"stop-loss","triggers":{"reference":"last","price":40100}`, "", "40100"},
		{"take-profit trigger quote offset", `"order_type":"take-profit","triggers":{"reference":"last","price":150,"price_type":"quote"}`, "", ""},
		{"plain limit", `"order_type":"limit","limit_price":42000.1`, "42000.1", ""},
	} {
		f := newConnFeed(t, schema.VenueKraken)
		evs, err := f.feed(1, head+c.fields+`}],"sequence":1}`)
		require.NoError(t, err, c.name)
		require.Len(t, evs, 1, c.name)
		x := evs[0].Exec
		assert.Equal(t, c.wantPrice, decOrEmpty(x.Price), "%s: Price", c.name)
		assert.Equal(t, c.wantSP, decOrEmpty(x.StopPrice), "%s: StopPrice", c.name)

		// a later report leaves the prices out: the order's are kept as read
		evs, err = f.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","exec_type":"restated","order_status":"new","timestamp":"2024-01-02T03:04:05.000000Z"}],"sequence":2}`)
		require.NoError(t, err, c.name)
		require.Len(t, evs, 1, c.name)
		assert.Equal(t, c.wantPrice, decOrEmpty(evs[0].Exec.Price), "%s: kept Price", c.name)
		assert.Equal(t, c.wantSP, decOrEmpty(evs[0].Exec.StopPrice), "%s: kept StopPrice", c.name)
	}
}

func decOrEmpty(d schema.Decimal) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
