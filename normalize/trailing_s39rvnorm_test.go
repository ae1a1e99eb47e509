package normalize_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// TestS39rvnormKrakenTrailingOffsets: a Kraken trailing stop's descr.price
// (and a trailing-stop-limit's price2) is an offset, not a price: Kraken
// "Add Order" requires a relative price for trailing stops ("+" prefix,
// "%" suffix for a percentage) and says a trailing-stop-limit's limit is
// an offset from the trigger price. Since s39norm these orders are typed
// TrailingStop and TrailingStopLimit; Query Orders read the offset as the
// order's limit Price (and "+50.0" or "5%" refused the whole answer).
// The offsets are no prices: Price and StopPrice stay zero.
func TestS39rvnormKrakenTrailingOffsets(t *testing.T) {
	for _, c := range []struct {
		typ, price, price2 string
		want               schema.OrderType
	}{
		{"trailing-stop", "50.0", "0", schema.OrderTypeTrailingStop},
		{"trailing-stop", "+50.0", "0", schema.OrderTypeTrailingStop},
		{"trailing-stop", "+5.0000%", "0", schema.OrderTypeTrailingStop},
		{"trailing-stop-limit", "+50.0", "-10.0", schema.OrderTypeTrailingStopLimit},
		{"trailing-stop-limit", "1.5%", "0", schema.OrderTypeTrailingStopLimit},
	} {
		answer := `{"error":[],"result":{"OMMDB2-FSB6Z-7W3HPO":{"cl_ord_id":null,"status":"open","opentm":1688592012.2317,` +
			`"descr":{"pair":"XBTUSD","type":"sell","ordertype":"` + c.typ + `","price":"` + c.price + `","price2":"` + c.price2 + `"},` +
			`"vol":"0.25000000","vol_exec":"0","cost":"0","fee":"0","price":"0","misc":"","oflags":"fciq"}}}`
		os, err := normalize.ParseKrakenQueryOrders([]byte(answer), "BTC-USD", nil)
		require.NoError(t, err, c.typ+" "+c.price)
		require.Len(t, os, 1)
		assert.Equal(t, c.want, os[0].Type, c.typ)
		assert.True(t, os[0].Price.IsZero(), "%s %s: an offset is no limit price, got %s", c.typ, c.price, os[0].Price)
		assert.True(t, os[0].StopPrice.IsZero(), "%s %s: an offset is no stop price, got %s", c.typ, c.price, os[0].StopPrice)
	}

	// a percentage where a price is read stays a refusal naming the field
	bad := `{"error":[],"result":{"OMMDB2-FSB6Z-7W3HPO":{"status":"open","opentm":1688592012.2317,` +
		`"descr":{"pair":"XBTUSD","type":"sell","ordertype":"stop-loss","price":"5%","price2":"0"},` +
		`"vol":"0.25000000","vol_exec":"0","cost":"0","fee":"0","price":"0","oflags":"fciq"}}}`
	_, err := normalize.ParseKrakenQueryOrders([]byte(bad), "BTC-USD", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "descr.price")
}
