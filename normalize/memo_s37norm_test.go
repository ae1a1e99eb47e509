package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s37normBybitOrder is a Bybit "order" topic frame of one linear limit
// order with the given status, price and creationTime (the frame's).
func s37normBybitOrder(status, price, created, updated string) string {
	return `{"id":"1","topic":"order","creationTime":` + created + `,"data":[{"symbol":"BTCUSDT","orderId":"5cf98598","side":"Sell","orderType":"Limit",` +
		`"cancelType":"UNKNOWN","price":"` + price + `","qty":"1","timeInForce":"GTC","orderStatus":"` + status + `","orderLinkId":"x1","leavesQty":"1",` +
		`"cumExecQty":"0","cumExecValue":"0","avgPrice":"","createdTime":"1672364262444","updatedTime":"` + updated + `","rejectReason":"EC_NoError","category":"linear"}]}`
}

// s37normKraken is a Kraken v2 executions frame of one order; envelope
// is added to the frame's members (a "timestamp").
func s37normKraken(envelope, member string) string {
	return `{"channel":"executions","type":"update"` + envelope + `,"data":[{"order_id":"OK4GJX-KSTLS-7DZZO5","symbol":"BTC/USD","order_qty":0.005,` +
		`"side":"sell","order_type":"limit","timestamp":"2023-09-22T10:33:05.709950Z"` + member + `}],"sequence":9}`
}

// TestS37normRefusedFrameLeavesNoOrderMemory: normalize/doc.go, "it is
// dropped and counted, and nothing else is affected" (contract 6). A
// parser that remembers each order's last report (Coinbase's cumulative
// fills, Bybit's working orders for amendments, Kraken's fields to
// complete partial reports) recorded the report while it was read; a
// frame refused after that (its envelope's time not an instant, the
// Coinbase "timestamp" or Bybit "creationTime") left it recorded. The
// report that follows then came out as if the refused one had been
// delivered: on Coinbase its fill was lost for good (the growth already
// counted), on Bybit an amendment came as a second New, on Kraken a later
// partial report carried the refused frame's price.
func TestS37normRefusedFrameLeavesNoOrderMemory(t *testing.T) {
	cbBadTime := func(b []byte) string {
		return strings.Replace(string(b), `"timestamp":"2026-04-07T14:30:06.000000Z"`, `"timestamp":"2026-04-07X14:30:06"`, 1)
	}
	cases := []struct {
		name          string
		venue         schema.Venue
		before        []string
		refused, next string
	}{
		{
			name:    "coinbase fill",
			venue:   schema.VenueCoinbase,
			before:  []string{string(coinbaseUser("snapshot", "OPEN", "0", "1", "0", "0"))},
			refused: cbBadTime(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "12.00")),
			next:    string(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "12.00")),
		},
		{
			name:    "coinbase final",
			venue:   schema.VenueCoinbase,
			before:  []string{string(coinbaseUser("snapshot", "OPEN", "0", "1", "0", "0"))},
			refused: cbBadTime(coinbaseUser("update", "FILLED", "1", "0", "50000.00", "30.00")),
			next:    string(coinbaseUser("update", "FILLED", "1", "0", "50000.00", "30.00")),
		},
		{
			name:    "bybit amendment",
			venue:   schema.VenueBybit,
			before:  []string{s37normBybitOrder("New", "100", "1672364262474", "1672364262457")},
			refused: s37normBybitOrder("New", "101", "-5", "1672364262500"),
			next:    s37normBybitOrder("New", "101", "1672364262510", "1672364262500"),
		},
		{
			name:    "bybit cancel",
			venue:   schema.VenueBybit,
			before:  []string{s37normBybitOrder("New", "100", "1672364262474", "1672364262457")},
			refused: s37normBybitOrder("Cancelled", "100", "-5", "1672364262500"),
			next:    s37normBybitOrder("New", "101", "1672364262510", "1672364262500"),
		},
		{
			name:    "kraken fields",
			venue:   schema.VenueKraken,
			before:  []string{s37normKraken("", `,"exec_type":"new","order_status":"new","limit_price":26500.0`)},
			refused: s37normKraken(`,"timestamp":"not a time"`, `,"exec_type":"amended","order_status":"new","limit_price":27000.0`),
			next:    s37normKraken("", `,"exec_type":"status","order_status":"new"`),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reports := func(refused bool) []schema.Execution {
				f := newConnFeed(t, c.venue)
				for _, m := range c.before {
					_, err := f.feed(1, m)
					require.NoError(t, err)
				}
				if refused {
					evs, err := f.feed(1, c.refused)
					require.Error(t, err, "the mutated frame is refused")
					for _, ev := range evs {
						require.Equal(t, schema.EventGap, ev.Type, "a refused frame delivers no report")
					}
				}
				evs, err := f.feed(1, c.next)
				require.NoError(t, err)
				var out []schema.Execution
				for _, ev := range evs {
					if ev.Type == schema.EventExecReport {
						out = append(out, s42normExec(t, ev))
					}
				}
				require.NotEmpty(t, out)
				return out
			}
			assert.Equal(t, reports(false), reports(true), "the report after a refused frame is as if it had not come")
		})
	}
}
