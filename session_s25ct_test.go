package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// Contracts 4 and 5 through package session on the simulated Binance:
// "Every state change (connecting, connected, disconnected, gap) is
// visible to the host", and market data is "never silently stale (a gap
// marker it can see)". A subscriber of trades alone — what a strategy
// that only reads trades subscribes to — while the venue resets the
// connection (TCP RST) three times: whenever its trade ids jump (trades
// the venue sent while the connection was down), an event it receives
// between the two trades told it of the loss — a gap marker of the
// venue or symbol (GapType trade or none). Trades are never reordered,
// and none is delivered twice.
func TestS25ctSessionReconnectAnnouncesLostTrades(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1})
	defer v.Close()
	ctx := context.Background()
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"trade"},
	})
	require.NoError(t, err)
	type got struct {
		typ     schema.EventType
		seq     uint64
		gapType schema.EventType
		symbol  string
		state   schema.ConnState
	}
	var mu sync.Mutex
	var evs []got
	var all []schema.EventType // what a subscriber of everything hears
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		if ev.Type != schema.EventTrade {
			mu.Lock()
			all = append(all, ev.Type)
			mu.Unlock()
		}
	}})
	require.NoError(t, err)
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		var c schema.Control // a trade carries none: its fields read as zero
		if ev.Control != nil {
			c = *ev.Control
		}
		mu.Lock()
		evs = append(evs, got{ev.Type, ev.SeqProvider, c.GapType, ev.Symbol, c.State})
		mu.Unlock()
	}})
	require.NoError(t, err)
	trades := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, e := range evs {
			if e.typ == schema.EventTrade {
				n++
			}
		}
		return n
	}
	require.NoError(t, s.WaitConnected(ctx))
	for i := range 3 {
		n := trades()
		require.Eventually(t, func() bool { return trades() > n+20 }, time.Minute, time.Millisecond, "trades flow (reset %d)", i)
		v.Inject(venuesim.FaultReset)
	}
	n := trades()
	require.Eventually(t, func() bool { return trades() > n+20 }, time.Minute, time.Millisecond, "trades flow after the last reset")
	require.NoError(t, s.Close(ctx))

	mu.Lock()
	defer mu.Unlock()
	var last uint64
	told, holes, announced := false, 0, 0
	for _, e := range evs {
		switch e.typ {
		case schema.EventTrade:
			if last != 0 {
				assert.Greater(t, e.seq, last, "trades reordered or repeated")
				if e.seq > last+1 {
					holes++
					if told {
						announced++
					}
					assert.True(t, told, "trades %d..%d lost without a marker before trade %d", last+1, e.seq-1, e.seq)
				}
			}
			last, told = e.seq, false
		case schema.EventGap:
			if e.gapType == schema.EventTrade || e.gapType == schema.EventUnknown {
				told = true
			}
		default:
			told = told || e.typ == schema.EventConnState
		}
	}
	t.Logf("a subscriber of everything heard, besides trades: %v", all)
	t.Logf("%d events, %d holes in the trade ids, %d announced", len(evs), holes, announced)
}

// The same for a subscriber of best bid/offers alone, on Binance's
// bookTicker stream: the quote it holds when the connection is lost is
// the venue's state no longer, and dispatch/doc.go says a gap marker
// naming no type "replaces what those streams have queued" and reaches
// "every subscriber of market data of its venue". After the venue resets
// the connection, the subscriber must hear of the loss — a gap marker of
// the venue or the symbol, or an empty quote — before quotes flow again.
func TestS25ctSessionReconnectWithdrawsTheQuote(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1})
	defer v.Close()
	ctx := context.Background()
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"bookTicker"},
	})
	require.NoError(t, err)
	defer func() { _ = s.Close(context.Background()) }()
	var mu sync.Mutex
	quotes, told := 0, 0
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ev.Type == schema.EventGap, ev.Type == schema.EventBBO && ev.BBO.BidPrice.IsZero() && ev.BBO.AskPrice.IsZero():
			told++
		case ev.Type == schema.EventBBO:
			quotes++
		}
	}})
	require.NoError(t, err)
	count := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return quotes, told
	}
	require.Eventually(t, func() bool { q, _ := count(); return q > 10 }, time.Minute, time.Millisecond)
	v.Inject(venuesim.FaultReset)
	require.Eventually(t, func() bool { return s.Stats().Market[0].Client.TotalReconnects() > 0 }, time.Minute, time.Millisecond)
	q0, _ := count()
	require.Eventually(t, func() bool { q, _ := count(); return q > q0+10 }, time.Minute, time.Millisecond, "quotes flow again")
	_, n := count()
	require.Positive(t, n, "the quote-only subscriber heard of the lost connection")
	require.NoError(t, s.Close(ctx))
}
