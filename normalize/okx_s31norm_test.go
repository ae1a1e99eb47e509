package normalize

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// OKX's liquidation-orders channel was not parsed: a host subscribed to it
// got nothing (each push counted Unknown). Its doc example, member by
// member (OKX API v5 "Liquidation orders channel"): instId → Symbol
// (IOST-USDT-SWAP is IOST-USDT-PERP); details[].side "buy" → Liquidation.Side
// (the order's side); bkPx → Price, digit for digit; sz → Qty (contracts
// for SWAP, as a trade's sz); ts (Unix ms) → ExchangeTS in ns; posSide,
// bkLoss, ccy, instType, instFamily, uly: no schema field (documented in
// okxLiquidationMsg). Failed before: no event, Stats.Unknown 1.
func TestS31OKXLiquidationOrdersMembers(t *testing.T) {
	p, events, ev := okxDocEvent(t, "okx_liquidation_orders.json")
	require.Equal(t, schema.EventLiquidation, ev.Type)
	require.Equal(t, schema.VenueOKX, ev.Venue)
	require.Equal(t, "IOST-USDT-PERP", ev.Symbol)
	require.Equal(t, schema.SideBuy, ev.Liquidation.Side)
	requireDigits(t, "0.007831", ev.Liquidation.Price)
	requireDigits(t, "13", ev.Liquidation.Qty)
	require.True(t, ev.Liquidation.AvgPrice.IsZero())
	require.True(t, ev.Liquidation.FilledQty.IsZero())
	require.Equal(t, schema.OrderStatus(0), ev.Liquidation.Status)
	require.Equal(t, int64(1692266434010)*1_000_000, ev.ExchangeTS)
	require.Equal(t, int64(7), ev.IngestTS)
	st := p.Stats()
	require.Zero(t, st.Unknown)
	require.Zero(t, st.Errors)
	require.Zero(t, events.Stats().InUse)
}

// Several instruments a push, several details an instrument: one event
// each, in order, each with its element's instrument; a detail that is
// bad (no sz, an unknown side) is dropped with its *ParseError and the
// others still come. MARGIN details send side and bkPx as "" (FUTURES
// and SWAP only, per the page): the liquidation still comes, its side and
// price unknown.
func TestS31OKXLiquidationOrdersEntries(t *testing.T) {
	msg := `{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[` +
		`{"instId":"BTC-USDT-SWAP","details":[` +
		`{"side":"sell","posSide":"long","bkPx":"60000.5","sz":"2","bkLoss":"0","ccy":"","ts":"1692266434010"},` +
		`{"side":"buy","posSide":"short","bkPx":"60100","ts":"1692266434011"},` +
		`{"side":"up","posSide":"short","bkPx":"60100","sz":"1","ts":"1692266434012"},` +
		`{"side":"buy","posSide":"short","bkPx":"60200","sz":"3","ts":"1692266434013"}]},` +
		`{"instId":"ETH-USDT","instType":"MARGIN","details":[{"side":"","posSide":"net","bkPx":"","sz":"0.5","bkLoss":"0","ccy":"ETH","ts":"1692266434014"}]}]}`
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewOKX(events, sink, nil)
	require.Error(t, p.HandleBytes(context.Background(), []byte(msg), 1))
	require.Len(t, sink.got, 3)
	for i, want := range []struct {
		sym, price, qty string
		side            schema.Side
	}{
		{"BTC-USDT-PERP", "60000.5", "2", schema.SideSell},
		{"BTC-USDT-PERP", "60200", "3", schema.SideBuy},
		{"ETH-USDT", "", "0.5", schema.Side(0)},
	} {
		ev := sink.got[i]
		require.Equal(t, want.sym, ev.Symbol, i)
		require.Equal(t, want.side, ev.Liquidation.Side, i)
		if want.price == "" {
			require.True(t, ev.Liquidation.Price.IsZero(), i)
		} else {
			requireDigits(t, want.price, ev.Liquidation.Price)
		}
		requireDigits(t, want.qty, ev.Liquidation.Qty)
	}
	require.Equal(t, uint64(2), p.Stats().Errors)
	require.Zero(t, events.Stats().InUse)

	// An element without details, or without its instrument, is refused.
	for _, bad := range []string{
		`{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"instId":"BTC-USDT-SWAP"}]}`,
		`{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[{"side":"buy","bkPx":"1","sz":"1","ts":"1692266434010"}]}]}`,
	} {
		n := len(sink.got)
		require.Error(t, p.HandleBytes(context.Background(), []byte(bad), 1), bad)
		require.Len(t, sink.got, n, bad)
	}
	require.Zero(t, events.Stats().InUse)
}

// A liquidation-orders push normalises with no allocation once warmed.
func TestS31OKXLiquidationOrdersAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	doc, err := os.ReadFile("testdata/docs/okx_liquidation_orders.json")
	require.NoError(t, err)
	events := schema.NewPools(nil).Events
	p := NewOKX(events, &putSink{events: events}, nil)
	ctx := context.Background()
	handle := func() {
		if err := p.HandleBytes(ctx, doc, 1); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		handle()
	}
	require.Zero(t, testing.AllocsPerRun(100, handle))
}

// okxDocEvent feeds the OKX doc example testdata/docs/<name> to a new OKX
// parser (received at 7) and returns the parser, its event pool and the
// one event it made.
func okxDocEvent(t *testing.T, name string) (*Parser, *pool.Pool[*schema.CanonicalEvent], *schema.CanonicalEvent) {
	t.Helper()
	doc, err := os.ReadFile("testdata/docs/" + name)
	require.NoError(t, err)
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewOKX(events, sink, nil)
	require.NoError(t, p.HandleBytes(context.Background(), doc, 7))
	require.Len(t, sink.got, 1)
	return p, events, sink.got[0]
}
