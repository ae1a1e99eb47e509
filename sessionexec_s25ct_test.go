package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s25ctFills sums an order's fills, each trade id once.
type s25ctFills struct {
	mu     sync.Mutex
	qty    map[string]schema.Decimal // client order id → filled
	trades map[string]int            // "order/trade" → times seen
	filled map[string]bool           // a FILLED report seen
	recon  int                       // reports rebuilt by reconciliation
}

func (f *s25ctFills) add(x *schema.Execution) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.qty == nil {
		f.qty, f.trades, f.filled = map[string]schema.Decimal{}, map[string]int{}, map[string]bool{}
	}
	id := x.ClientOrderID.String()
	if x.ExecType == schema.ExecTrade {
		k := id + "/" + x.TradeID.String()
		f.trades[k]++
		if f.trades[k] == 1 {
			q, err := f.qty[id].Add(x.LastFillQty)
			if err == nil {
				f.qty[id] = q
			}
		}
	}
	if x.Status == schema.StatusFilled {
		f.filled[id] = true
	}
	if x.Reconciled {
		f.recon++
	}
}

func (f *s25ctFills) done(ids []string, qty schema.Decimal) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if !f.filled[id] || !f.qty[id].Equal(qty) {
			return false
		}
	}
	return true
}

// Contract 3 end to end on the simulated Binance: "Execution reports are
// never dropped. Not under backpressure, not on a full pool, not on a slow
// subscriber", across a lost order connection (session/doc.go: the
// reports missed while the user-data stream was down are reconciled,
// Execution.Reconciled, each once). Four resting orders are filled in two
// parts each while the venue streams quotes at 2,000 a second, with a
// subscriber of execution reports held still and the WS-API connection
// closed by the venue between the two parts. Both OnExecReport and the
// held subscriber, once released, get every fill of every order exactly
// once and each order's FILLED.
func TestS25ctSessionFillsSurviveAReconnect(t *testing.T) {
	keys := normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s")))
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, APIKey: "k", APISecret: "s"})
	defer v.Close()
	ctx := context.Background()
	var viaHook s25ctFills
	var sp atomic.Pointer[session.Session]
	s, err := session.Start(ctx, session.Config{
		Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"bookTicker", "trade"},
		Credentials: keys,
		OnExecReport: func(r *schema.ExecReport) {
			viaHook.add(&r.Execution)
			sp.Load().Pools().Execs.Put(r) // no report comes before the first Place
		},
	})
	require.NoError(t, err)
	defer func() { _ = s.Close(context.Background()) }()
	sp.Store(s)
	var viaSub s25ctFills
	hold := make(chan struct{})
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{CriticalBound: 2, Handler: func(ev *schema.CanonicalEvent) {
		<-hold
		viaSub.add(ev.Exec)
	}})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))

	var ids []string
	for i := range 4 {
		id := fmt.Sprintf("s25ct-%d", i)
		ids = append(ids, id)
		req, err := s.Pools().Orders.Get(ctx)
		require.NoError(t, err)
		req.Venue, req.Symbol = schema.VenueBinance, "BTC-USDT"
		req.ClientOrderID, req.Side, req.Type, req.TimeInForce = schema.MustID(id), schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
		req.Price, req.Qty = schema.MustParseDecimal("1000.00"), schema.MustParseDecimal("0.5")
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err = s.Place(pctx, req)
		cancel()
		s.Pools().Orders.Put(req)
		require.NoError(t, err)
	}
	for _, id := range ids {
		oid, ok := v.OrderID(id)
		require.True(t, ok)
		require.NoError(t, v.FillOrder(oid, "0.2"))
	}
	require.Positive(t, v.CloseAPI(), "the venue closes the order connection")
	for _, id := range ids { // while it is down, or as it comes back
		oid, _ := v.OrderID(id)
		require.NoError(t, v.FillOrder(oid, ""))
	}
	half := schema.MustParseDecimal("0.5")
	require.Eventually(t, func() bool { return viaHook.done(ids, half) }, 2*time.Minute, 5*time.Millisecond, "OnExecReport: every fill and FILLED")
	close(hold)
	require.Eventually(t, func() bool { return viaSub.done(ids, half) }, 2*time.Minute, 5*time.Millisecond, "the held subscriber: every fill and FILLED")
	for name, f := range map[string]*s25ctFills{"OnExecReport": &viaHook, "subscriber": &viaSub} {
		f.mu.Lock()
		for k, n := range f.trades {
			assert.Equal(t, 1, n, "%s: fill %s delivered %d times", name, k, n)
		}
		t.Logf("%s: %d fills, %d reports reconciled", name, len(f.trades), f.recon)
		f.mu.Unlock()
	}
	require.NoError(t, s.Close(ctx))
}
