package meltica_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Contract 6 over a real connection: "Malformed JSON, unknown message
// types, oversized frames, NaN/negative prices: a typed error, a counter,
// the message dropped, the connection and every other event unharmed".
// The venue sends, on its first connection, trade 1, a text message that
// is not UTF-8, malformed JSON, a trade at a NaN price, an unknown message
// type, trade 2, a message over the client's ReadLimit and trade 3. The
// host sees each fault typed as wsclient's and normalize's docs say
// (errors.Is / errors.As on Event.Err), counted, and all three trades, on
// the one connection: the oversized message is dropped, the connection
// kept.
func TestS25ctBadInputOverAConnection(t *testing.T) {
	trade := func(id string) []byte {
		return []byte(`{"e":"trade","E":1700000000000,"s":"BTCUSDT","t":` + id + `,"p":"1.00","q":"2","T":1700000000000,"m":true}`)
	}
	var conns atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		ctx := c.CloseRead(r.Context())
		var msgs [][]byte
		if conns.Add(1) == 1 {
			msgs = [][]byte{
				trade("1"),
				{'{', 0xff, 0xfe, '}'},
				[]byte(`{"e":"trade","E":`),
				[]byte(`{"e":"trade","E":1700000000000,"s":"BTCUSDT","t":5,"p":"NaN","q":"2","T":1700000000000,"m":true}`),
				[]byte(`{"e":"somethingNew","E":1700000000000,"s":"BTCUSDT"}`),
				trade("2"),
				[]byte(`{"e":"trade","x":"` + strings.Repeat("a", 8192) + `"}`),
				trade("3"),
			}
		}
		for _, m := range msgs {
			if c.Write(ctx, websocket.MessageText, m) != nil {
				return
			}
		}
		<-ctx.Done()
	}))
	defer srv.Close()

	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var mu sync.Mutex
	var trades []uint64
	_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		trades = append(trades, ev.SeqProvider)
		mu.Unlock()
	}})
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)
	var evMu sync.Mutex
	var evs []error
	c, err := newS25ctClient("ws"+strings.TrimPrefix(srv.URL, "http"), p, pools, func(err error) {
		evMu.Lock()
		evs = append(evs, err)
		evMu.Unlock()
	})
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(trades) == 3
	}, time.Minute, time.Millisecond, "every good trade delivered")
	mu.Lock()
	assert.Equal(t, []uint64{1, 2, 3}, trades)
	mu.Unlock()

	st := c.Stats()
	assert.Equal(t, uint64(1), st.InvalidFrames, "the text that is not UTF-8 counted")
	assert.Equal(t, uint64(1), st.Oversized, "the oversized message counted")
	assert.Zero(t, st.TotalReconnects(), "the connection kept")
	assert.Equal(t, int32(1), conns.Load())
	ps := p.Stats()
	assert.Equal(t, uint64(2), ps.Errors, "malformed JSON and the NaN price counted as errors: %+v", ps)
	assert.Equal(t, uint64(1), ps.Unknown, "the unknown type counted: %+v", ps)

	require.Eventually(t, func() bool {
		evMu.Lock()
		defer evMu.Unlock()
		var utf, parse, nan, over bool
		for _, err := range evs {
			var pe *normalize.ParseError
			var oe *wsclient.OversizedError
			var de *schema.DecimalError
			switch {
			case errors.Is(err, wsclient.ErrInvalidUTF8):
				utf = true
			case errors.As(err, &pe) && errors.As(err, &de) && errors.Is(err, schema.ErrDecimalNotFinite):
				nan = true
			case errors.As(err, &pe):
				parse = true
			case errors.As(err, &oe) && errors.Is(err, websocket.ErrMessageTooBig):
				over = true
			}
		}
		return utf && parse && nan && over
	}, time.Minute, time.Millisecond, "each fault reported typed")
	require.NoError(t, c.Close(ctx))
	s25ctRunEnded(t, <-ran)
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// dispatch/doc.go: Publish "returns the original to its pool before
// Publish returns — with no subscriber, on every error and after Close
// too. A clone handed back to Publish by mistake is refused with a
// *NotPooledError"; pool/doc.go: Get on an exhausted pool whose context
// ends "matches both ErrExhausted and ctx.Err()"; after Shutdown, ErrClosed.
func TestS25ctTypedErrorsOfTheDispatcherAndPool(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	clones := make(chan *schema.CanonicalEvent, 1)
	_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { clones <- ev }})
	require.NoError(t, err)
	ev, err := pools.Events.Get(ctx)
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTrade
	require.NoError(t, d.Publish(ctx, ev))
	clone := <-clones
	err = d.Publish(ctx, clone)
	var np *dispatch.NotPooledError
	require.ErrorAs(t, err, &np)
	assert.ErrorIs(t, err, dispatch.ErrNotPooled)
	assert.Equal(t, "BTC-USDT", np.Symbol)
	assert.ErrorIs(t, d.Publish(ctx, nil), dispatch.ErrNilEvent)
	require.NoError(t, d.Close(ctx))
	ev, err = pools.Events.Get(ctx)
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventExecReport
	assert.ErrorIs(t, d.Publish(ctx, ev), dispatch.ErrClosed)
	assert.Zero(t, pools.Events.Stats().InUse, "the event published after Close went back to its pool")
	_, err = d.Subscribe(dispatch.Filter{}, nil)
	assert.ErrorIs(t, err, dispatch.ErrClosed)

	small := pool.New("small", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	held, err := small.Get(ctx)
	require.NoError(t, err)
	_, err = small.TryGet()
	assert.ErrorIs(t, err, pool.ErrExhausted)
	gctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err = small.Get(gctx)
	assert.ErrorIs(t, err, pool.ErrExhausted)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	small.Put(held)
	require.NoError(t, small.Shutdown(ctx))
	_, err = small.Get(ctx)
	assert.ErrorIs(t, err, pool.ErrClosed)
	_, err = small.TryGet()
	assert.ErrorIs(t, err, pool.ErrClosed)
	require.NoError(t, pools.Shutdown(ctx))
}

// newS25ctClient is a Binance client of p on url whose reported errors go
// to report.
func newS25ctClient(url string, p *normalize.Parser, pools *schema.Pools, report func(error)) (*wsclient.Client, error) {
	return wsclient.New(url, p.HandleFrame, &wsclient.Options{
		Venue: schema.VenueBinance, Frames: pools.Frames, ReadLimit: 4096,
		BackoffBase: 1, BackoffCap: 2, TryAgainDelay: 1, // redial at once (a 1009 waits BackoffCap)
		OnEvent: func(e wsclient.Event) {
			if e.Err != nil {
				report(e.Err)
			}
		},
	})
}
