package normalize

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS36rvnormRemainingOnEndedOrders: Execution.RemainingQty is the FIX
// LeavesQty (tag 151, "Quantity open for further execution"; "LeavesQty =
// 0" when OrdStatus is Canceled, Expired, Rejected or Filled — "Done").
// Binance, OKX and Kraken's reports were given q − z on an ended order
// (0.6 left of an order canceled after 0.4 filled) while Bybit's and
// Coinbase's carried the venue's leaves quantity: a strategy summing what
// its orders may still fill counted canceled quantity as working.
func TestS36rvnormRemainingOnEndedOrders(t *testing.T) {
	bnExpireTaker := strings.Replace(bnExecReport("TRADE_PREVENTION", "EXPIRED_IN_MATCH", "0", "0.4", "1"), `"V":"NONE"`,
		`"A":"0.2","B":"0.2","u":1,"v":0,"U":2,"V":"EXPIRE_TAKER"`, 1)
	for _, tc := range []struct {
		name   string
		venue  schema.Venue
		msg    string
		status schema.OrderStatus
	}{
		{"Binance spot CANCELED", schema.VenueBinance, bnExecReport("CANCELED", "CANCELED", "0", "0.4", "1"), schema.StatusCanceled},
		{"Binance spot EXPIRED", schema.VenueBinance, bnExecReport("EXPIRED", "EXPIRED", "0", "0.4", "1"), schema.StatusExpired},
		{"Binance spot EXPIRED_IN_MATCH, A short of q − z", schema.VenueBinance, bnExpireTaker, schema.StatusExpiredInMatch},
		{"Binance spot REJECTED", schema.VenueBinance, bnExecReport("REJECTED", "REJECTED", "0", "0", "1"), schema.StatusRejected},
		{"Binance USDⓈ-M CANCELED", schema.VenueBinance, bnOrderTradeUpdate("CANCELED", "CANCELED", "0", "0.4", "1"), schema.StatusCanceled},
		{"Binance USDⓈ-M EXPIRED", schema.VenueBinance, bnOrderTradeUpdate("EXPIRED", "EXPIRED", "0", "0.4", "1"), schema.StatusExpired},
		{"OKX canceled", schema.VenueOKX, strings.Replace(okxOrderPush("canceled", "0", "0", ""), `"accFillSz":"0"`, `"accFillSz":"0.4"`, 1), schema.StatusCanceled},
		{"Kraken canceled", schema.VenueKraken, krakenExecPush("canceled", "canceled"), schema.StatusCanceled},
		{"Kraken expired", schema.VenueKraken, krakenExecPush("expired", "expired"), schema.StatusExpired},
		{"Bybit Cancelled", schema.VenueBybit, bybitOrder("Cancelled"), schema.StatusCanceled},
		{"Bybit Deactivated", schema.VenueBybit, bybitOrder("Deactivated"), schema.StatusCanceled},
		{"Coinbase CANCELLED", schema.VenueCoinbase, string(coinbaseUser("update", "CANCELLED", "0.4", "0.6", "20000", "0")), schema.StatusCanceled},
		{"Coinbase EXPIRED", schema.VenueCoinbase, string(coinbaseUser("update", "EXPIRED", "0.4", "0.6", "20000", "0")), schema.StatusExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := newConnFeed(t, tc.venue).feed(1, tc.msg)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			x := evs[0].Exec
			require.Equal(t, tc.status, x.Status)
			assert.True(t, x.RemainingQty.IsZero(), "an ended order has nothing open: RemainingQty %s", x.RemainingQty)
			if tc.venue == schema.VenueCoinbase {
				requireDigits(t, "1.0", x.Qty, "Qty is still cumulative + leaves")
			}
		})
	}
}

// FuzzS36rvnormRemaining: execution reports of every venue, fuzzed; a
// delivered report of an ended order has nothing open, and none has a
// negative remainder. The first byte picks the venue.
func FuzzS36rvnormRemaining(f *testing.F) {
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueKraken, schema.VenueBybit, schema.VenueCoinbase}
	for i, s := range []string{bnExecReport("CANCELED", "CANCELED", "0", "0.4", "1"), okxOrderPush("canceled", "0", "0", ""),
		krakenExecPush("canceled", "canceled"), bybitOrder("Cancelled"), string(coinbaseUser("snapshot", "CANCELLED", "0.4", "0.6", "20000", "0"))} {
		f.Add(byte(i), []byte(s))
	}
	f.Add(byte(0), []byte(bnOrderTradeUpdate("EXPIRED", "EXPIRED", "0", "0.4", "1")))
	f.Fuzz(func(t *testing.T, v byte, data []byte) {
		events := schema.NewPools(nil).Events
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			defer events.Put(ev)
			if x := ev.Exec; ev.Type == schema.EventExecReport {
				if x == nil {
					t.Fatalf("an execution report without Exec: %+v", ev)
				}
				if x.RemainingQty.Sign() < 0 || (x.Status.Final() && !x.RemainingQty.IsZero()) {
					t.Fatalf("status %v with RemainingQty %s", x.Status, x.RemainingQty)
				}
			}
			return nil
		})
		p := newVenueParser(venues[int(v)%len(venues)], events, sink)
		_ = p.HandleBytes(context.Background(), data, 1)
		if n := events.Stats().InUse; n != 0 {
			t.Fatalf("%d events not returned", n)
		}
	})
}
