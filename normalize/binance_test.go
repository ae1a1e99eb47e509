package normalize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "binance", name+".json"))
	require.NoError(t, err)
	return b
}

// handle runs one fixture through a fresh parser and returns its events.
func handle(t *testing.T, name string) []*schema.CanonicalEvent {
	t.Helper()
	p, sink, _ := newRecParser(t, nil)
	require.NoError(t, p.HandleBytes(context.Background(), fixture(t, name), 7))
	for _, ev := range sink.got {
		require.NoError(t, ev.Validate())
		require.Equal(t, int64(7), ev.IngestTS)
	}
	return sink.got
}

func TestBinanceFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		typ   schema.EventType
		sym   string
		seq   uint64
		ts    int64
		check func(t *testing.T, ev *schema.CanonicalEvent)
	}{
		{"trade", schema.EventTrade, "BTC-USDT", 4100000001, 1700000000120 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			requireDigits(t, "37000.01000000", ev.Trade.Price)
			requireDigits(t, "0.00150000", ev.Trade.Qty)
			require.Equal(t, schema.SideBuy, ev.Trade.Side)
			require.Equal(t, "4100000001", ev.Trade.ID.String())
		}},
		{"aggTrade", schema.EventTrade, "ETH-USDT", 900000001, 1700000000220 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, "900000001", ev.Trade.ID.String(), "aggTrade id is in a, not t")
			require.Equal(t, schema.SideSell, ev.Trade.Side)
			requireDigits(t, "2000.10", ev.Trade.Price)
		}},
		{"combined_trade", schema.EventTrade, "SOL-USDC", 77, 1700000000320 * ms, nil},
		{"bookTicker_raw", schema.EventBBO, "BNB-USDT", 400900217, 0, func(t *testing.T, ev *schema.CanonicalEvent) {
			requireDigits(t, "25.35190000", ev.BBO.BidPrice)
			requireDigits(t, "40.66000000", ev.BBO.AskQty)
		}},
		{"bookTicker_futures", schema.EventBBO, "BTC-USDT", 400900218, 1568014460893 * ms, nil},
		{"combined_bookTicker", schema.EventBBO, "FDUSD-USDT", 12, 0, nil},
		{"depthUpdate_futures", schema.EventBookUpdate, "BTC-USDT", 5004, 1700000000623 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, uint64(4999), ev.Book.PrevSeq)
			require.Equal(t, uint64(5000), ev.Book.FirstSeq)
			requireDigits(t, "37000.1", ev.Book.Bids[0].Price)
		}},
		{"combined_depth5", schema.EventBookSnapshot, "BTC-USDT", 160, 0, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Len(t, ev.Book.Bids, 2)
			require.Len(t, ev.Book.Asks, 1)
			requireDigits(t, "0.0023", ev.Book.Bids[1].Price)
		}},
		// USDⓈ-M and COIN-M partial depth has the diff's shape (e, U, u,
		// pu, b, a): the stream name makes it a top-5 view, u its id.
		{"combined_futures_depth5", schema.EventBookSnapshot, "BTC-USDT", 390497878, 1571889248277 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Len(t, ev.Book.Bids, 2)
			require.Len(t, ev.Book.Asks, 2)
			requireDigits(t, "7403.90", ev.Book.Bids[1].Price)
			requireDigits(t, "4.525", ev.Book.Asks[1].Qty)
			require.Equal(t, uint64(390497878), ev.Book.LastSeq)
			require.Zero(t, ev.Book.PrevSeq, "a view, not a diff: nothing chains to it")
		}},
		{"kline_closed", schema.EventKlineClosed, "BTC-USDT", 200, 1700000060001 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.True(t, ev.Kline.Closed)
			requireDigits(t, "37010.50", ev.Kline.Close)
			requireDigits(t, "456789.12", ev.Kline.QuoteVolume)
			require.Equal(t, uint64(101), ev.Kline.TradeCount)
		}},
		{"ticker", schema.EventTicker, "BNB-BTC", 18150, 1700000000723 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			tk := ev.Ticker
			requireDigits(t, "-0.0015", tk.PriceChange)
			requireDigits(t, "-0.250", tk.ChangePct)
			requireDigits(t, "0.0025", tk.Last)
			requireDigits(t, "10", tk.LastQty)
			requireDigits(t, "0.0024", tk.BidPrice)
			requireDigits(t, "100", tk.AskQty)
			requireDigits(t, "18", tk.QuoteVolume)
			require.Equal(t, 1699913600723*ms, tk.WindowOpen)
			require.Equal(t, 1700000000723*ms, tk.WindowClose)
			require.Equal(t, uint64(18151), tk.TradeCount)
		}},
		{"miniTicker", schema.EventTicker, "BNB-BTC", 0, 1700000000823 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			requireDigits(t, "0.0010", ev.Ticker.Open)
			requireDigits(t, "10000", ev.Ticker.Volume)
		}},
		{"markPrice", schema.EventMarkPrice, "ETH-USDT", 0, 1700000001023 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			requireDigits(t, "-0.00010000", ev.Mark.FundingRate)
			require.Equal(t, 1700006400000*ms, ev.Mark.NextFundingTime)
		}},
		{"forceOrder", schema.EventLiquidation, "ETH-USDT", 0, 1700000001120 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, schema.SideBuy, ev.Liquidation.Side)
			require.Equal(t, schema.StatusPartiallyFilled, ev.Liquidation.Status)
			requireDigits(t, "2099.50", ev.Liquidation.AvgPrice)
		}},
		{"exec_new", schema.EventExecReport, "BTC-USDT", 0, 1700000002000 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			x := ev.Exec
			require.Equal(t, schema.OrderTypeLimitMaker, x.Type)
			require.Equal(t, schema.SideSell, x.Side)
			require.Equal(t, schema.ExecNew, x.ExecType)
			require.Equal(t, schema.StatusNew, x.Status)
			require.True(t, x.TradeID.IsZero())
			require.True(t, x.OrigClientOrderID.IsZero())
		}},
		{"exec_partial", schema.EventExecReport, "BTC-USDT", 0, 1700000002100 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			x := ev.Exec
			require.Equal(t, schema.ExecTrade, x.ExecType)
			require.Equal(t, schema.StatusPartiallyFilled, x.Status)
			require.Equal(t, schema.TIFIOC, x.TimeInForce)
			require.Equal(t, "555", x.TradeID.String())
			require.Equal(t, "BTC", x.FeeAsset.String())
			requireDigits(t, "0.00001000", x.Fee)
			requireDigits(t, "36999.50000000", x.LastFillPrice)
			requireDigits(t, "0.01000000", x.LastFillQty)
			requireDigits(t, "0.02000000", x.RemainingQty)
			require.True(t, x.IsMaker)
		}},
		{"exec_canceled", schema.EventExecReport, "BTC-USDT", 0, 1700000002200 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			x := ev.Exec
			require.Equal(t, schema.ExecCanceled, x.ExecType)
			require.Equal(t, schema.StatusCanceled, x.Status)
			require.Equal(t, "cancel-9", x.ClientOrderID.String())
			require.Equal(t, "bot-2", x.OrigClientOrderID.String())
		}},
		{"exec_rejected", schema.EventExecReport, "BTC-USDT", 0, 1700000002300 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			x := ev.Exec
			require.Equal(t, schema.ExecRejected, x.ExecType)
			require.Equal(t, schema.StatusRejected, x.Status)
			require.Equal(t, schema.OrderTypeStopLossLimit, x.Type)
			require.Equal(t, schema.TIFFOK, x.TimeInForce)
			require.Equal(t, "INSUFFICIENT_BALANCES", x.RejectReason)
			requireDigits(t, "2.0", x.StopPrice)
		}},
		{"exec_expired_in_match", schema.EventExecReport, "BTC-USDT", 0, 1700000002400 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, schema.ExecTradePrevention, ev.Exec.ExecType)
			require.Equal(t, schema.StatusExpiredInMatch, ev.Exec.Status)
			require.Equal(t, schema.OrderTypeMarket, ev.Exec.Type)
		}},
		{"exec_wrapped_amendment", schema.EventExecReport, "BTC-USDT", 0, 1700000002500 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, schema.ExecAmendment, ev.Exec.ExecType)
			require.Equal(t, schema.OrderTypeTakeProfitLimit, ev.Exec.Type)
		}},
		{"ack", schema.EventControl, "", 0, 0, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, schema.ControlSubscribeAck, ev.Control.Kind)
			require.Equal(t, uint64(7), ev.Control.RequestID)
			require.Zero(t, ev.Control.Code)
		}},
		{"wsapi_response", schema.EventOrderAck, "BTC-USDT", 0, 0, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, uint64(9), ev.Control.RequestID)
			require.Equal(t, "12569099453", ev.Exec.VenueOrderID.String())
		}},
		{"order_place_response", schema.EventOrderAck, "BTC-USDT", 0, 1660801715639 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, uint64(12), ev.Control.RequestID)
			x := ev.Exec
			require.Equal(t, "12569099453", x.VenueOrderID.String())
			require.Equal(t, "4d96324ff9d44481926157ec08158a40", x.ClientOrderID.String())
			require.Equal(t, schema.StatusPartiallyFilled, x.Status)
			require.Equal(t, schema.SideSell, x.Side)
			require.Equal(t, schema.OrderTypeLimit, x.Type)
			require.Equal(t, schema.TIFGTC, x.TimeInForce)
			requireDigits(t, "23416.10000000", x.Price)
			requireDigits(t, "0.00847000", x.Qty)
			requireDigits(t, "0.00500000", x.CumFillQty)
			requireDigits(t, "117.08050000", x.CumQuoteQty)
			requireDigits(t, "0.00347000", x.RemainingQty)
			require.Equal(t, 1660801715639*ms, x.TransactTime)
		}},
		{"order_cancel_response", schema.EventOrderAck, "BTC-USDT", 0, 1684804350068 * ms, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, uint64(13), ev.Control.RequestID)
			x := ev.Exec
			require.Equal(t, "12569099453", x.VenueOrderID.String())
			require.Equal(t, "4d96324ff9d44481926157ec08158a40", x.OrigClientOrderID.String())
			require.Equal(t, "91fe37ce9e69c90d6358c0", x.ClientOrderID.String())
			require.Equal(t, schema.StatusCanceled, x.Status)
		}},
		{"order_error", schema.EventControl, "", 0, 0, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, schema.ControlVenueError, ev.Control.Kind)
			require.Equal(t, uint64(14), ev.Control.RequestID)
			require.Equal(t, int64(-2010), ev.Control.Code)
			require.Equal(t, "Account has insufficient balance for requested action.", ev.Control.Reason)
		}},
		{"venue_error", schema.EventControl, "", 0, 0, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, schema.ControlVenueError, ev.Control.Kind)
			require.Equal(t, uint64(8), ev.Control.RequestID)
			require.Equal(t, int64(2), ev.Control.Code)
			require.Equal(t, "Invalid request: unknown variant", ev.Control.Reason)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs := handle(t, tt.name)
			require.Len(t, evs, 1)
			ev := evs[0]
			require.Equal(t, tt.typ, ev.Type)
			require.Equal(t, tt.sym, ev.Symbol)
			require.Equal(t, tt.seq, ev.SeqProvider)
			require.Equal(t, tt.ts, ev.ExchangeTS)
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
}

func TestBinanceArrayPayload(t *testing.T) {
	evs := handle(t, "miniTicker_arr")
	require.Len(t, evs, 2)
	require.Equal(t, "BNB-BTC", evs[0].Symbol)
	require.Equal(t, "ETH-BTC", evs[1].Symbol)
}

func TestBinanceUnknownSkipped(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	require.NoError(t, p.HandleBytes(context.Background(), []byte(`{"e":"someEventBinanceAddsLater","E":1564035303637,"s":"ETHBTC"}`), 1))
	require.NoError(t, p.HandleBytes(context.Background(), []byte(`{"stream":"x@y","data":{"foo":1}}`), 1))
	require.Empty(t, sink.got)
	st := p.Stats()
	require.Equal(t, uint64(2), st.Unknown)
	require.Equal(t, uint64(2), st.Messages)
	require.Zero(t, st.Errors)
}

func TestBinanceDepthGap(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, fixture(t, "depthUpdate"), 1)) // U=1001 u=1003
	require.NoError(t, p.HandleBytes(ctx, fixture(t, "depthUpdate_gap"), 2))
	require.Len(t, sink.got, 3)
	g := sink.got[1]
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, "BTC-USDT", g.Symbol)
	require.Equal(t, &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 6, GapFirstSeq: 1004, GapLastSeq: 1009, Reason: g.Control.Reason}, g.Control)
	require.Equal(t, schema.EventBookUpdate, sink.got[2].Type)
	// A replay of ids the stream already covered (a venue's resend, a
	// rotation's overlap) is a repeat: dropped and counted, never a gap
	// (issue #14 A; the rule is normalize/internal/continuity's).
	require.NoError(t, p.HandleBytes(ctx, fixture(t, "depthUpdate"), 3))
	require.Len(t, sink.got, 3)
	require.Equal(t, uint64(1), p.Stats().Gaps)
	require.Equal(t, uint64(1), p.Stats().Repeats)
	// Another symbol has its own sequence.
	other := []byte(`{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":1,"u":2,"b":[],"a":[]}`)
	require.NoError(t, p.HandleBytes(ctx, other, 4))
	require.Equal(t, uint64(1), p.Stats().Gaps)
}

func TestBinanceFuturesDepthUsesPU(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	ctx := context.Background()
	next := []byte(`{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":5003,"u":5010,"pu":5004,"b":[],"a":[]}`)
	require.NoError(t, p.HandleBytes(ctx, fixture(t, "depthUpdate_futures"), 1))
	require.NoError(t, p.HandleBytes(ctx, next, 1)) // U overlaps, but pu = previous u: continuous
	require.Len(t, sink.got, 2)
	require.Zero(t, p.Stats().Gaps)
}

func TestBinanceBadInput(t *testing.T) {
	tests := []struct {
		name, msg, field string
		want             error
	}{
		{"not json", `{"e":"trade",`, "", ErrMalformed},
		{"trailing", `{"e":"trade","s":"BTCUSDT","t":1,"p":"1","q":"1"} {}`, "", ErrMalformed},
		{"nan price", `{"e":"trade","s":"BTCUSDT","t":1,"p":"NaN","q":"1"}`, "p", schema.ErrDecimalNotFinite},
		{"inf qty", `{"e":"trade","s":"BTCUSDT","t":1,"p":"1","q":"Infinity"}`, "q", schema.ErrDecimalNotFinite},
		{"negative price", `{"e":"trade","s":"BTCUSDT","t":1,"p":"-1","q":"1"}`, "p", ErrNegative},
		{"text price", `{"e":"trade","s":"BTCUSDT","t":1,"p":"abc","q":"1"}`, "p", schema.ErrDecimalSyntax},
		{"bool price", `{"e":"trade","s":"BTCUSDT","t":1,"p":true,"q":"1"}`, "p", ErrBadValue},
		{"missing id", `{"e":"trade","s":"BTCUSDT","p":"1","q":"1"}`, "t", ErrMissingField},
		{"aggTrade reads a", `{"e":"aggTrade","s":"BTCUSDT","t":1,"p":"1","q":"1"}`, "a", ErrMissingField},
		{"unknown symbol", `{"e":"trade","s":"FOOBAR","t":1,"p":"1","q":"1"}`, "s", ErrUnknownSymbol},
		{"no symbol", `{"e":"trade","t":1,"p":"1","q":"1","T":1,"m":true}`, "s", ErrMissingField},
		{"time overflow", `{"e":"trade","s":"BTCUSDT","t":1,"p":"1","q":"1","T":99999999999999999}`, "T", ErrBadValue},
		{"float id", `{"e":"trade","s":"BTCUSDT","t":1.5,"p":"1","q":"1"}`, "t", ErrBadValue},
		{"bad level", `{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["1"]],"a":[]}`, "b", ErrBadValue},
		{"level not array", `{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":{},"a":[]}`, "b", ErrBadValue},
		{"U after u", `{"e":"depthUpdate","s":"BTCUSDT","U":3,"u":2,"b":[],"a":[]}`, "U", ErrBadValue},
		{"bad interval", `{"e":"kline","s":"BTCUSDT","k":{"t":1,"T":2,"i":"7m","o":"1","c":"1","h":"1","l":"1","v":"1","x":false}}`, "i", ErrBadValue},
		{"bad side", `{"e":"forceOrder","o":{"s":"BTCUSDT","S":"UP","p":"1","q":"1"}}`, "S", ErrBadValue},
		{"e not string", `{"e":1}`, "e", ErrBadValue},
		{"bad stream", `{"stream":1,"data":{}}`, "stream", ErrBadValue},
		{"long id", `{"e":"executionReport","s":"BTCUSDT","c":"0123456789012345678901234567890123456789012345678","S":"BUY","x":"NEW","X":"NEW","i":1}`, "c", schema.ErrIDTooLong},
		{"error not object", `{"error":"x","id":1}`, "error", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, sink, _ := newRecParser(t, nil)
			err := p.HandleBytes(context.Background(), []byte(tt.msg), 1)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.ErrorIs(t, err, tt.want)
			require.Equal(t, tt.field, pe.Field)
			require.Equal(t, schema.VenueBinance, pe.Venue)
			require.Contains(t, err.Error(), "normalize: binance")
			require.Empty(t, notRefused(sink.got))
			require.Equal(t, uint64(1), p.Stats().Errors)
			// The parser is unharmed.
			require.NoError(t, p.HandleBytes(context.Background(), fixture(t, "trade"), 1))
			require.Len(t, notRefused(sink.got), 1)
		})
	}
}

func TestBinanceEscapedStrings(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	msg := `{"e":"trade","s":"BTC\u0055SDT","t":1,"p":"1\u002e5","q":"2","T":1,"m":true}`
	require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1))
	require.Equal(t, "BTC-USDT", sink.got[0].Symbol)
	requireDigits(t, "1.5", sink.got[0].Trade.Price)
}

func TestBinanceKeepRawAndFrameNotAliased(t *testing.T) {
	p, sink, _ := newRecParser(t, &Options{KeepRaw: true})
	data := fixture(t, "combined_trade")
	f := &schema.WsFrame{Provider: schema.VenueBinance, Data: data, ReceivedAt: 5, ConnID: 3}
	require.NoError(t, p.HandleFrame(context.Background(), f))
	ev := sink.got[0]
	want := `{"e":"trade","E":1700000000323,"s":"SOLUSDC","t":77,"p":"55.123","q":"10","T":1700000000320,"m":true,"M":true}`
	require.Equal(t, want, string(ev.Raw))
	for i := range data {
		data[i] = 0
	}
	require.Equal(t, "SOL-USDC", ev.Symbol)
	require.Nil(t, p.raw.Payload, "the parser keeps no reference to the frame")
}

func TestBinanceSinkError(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	boom := errors.New("boom")
	sink.err = boom
	require.ErrorIs(t, p.HandleBytes(context.Background(), fixture(t, "trade"), 1), boom)
	require.Equal(t, uint64(1), p.Stats().SinkErrors)
}

func TestBinancePoolExhausted(t *testing.T) {
	events := pool.New("tiny", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	var got []*schema.CanonicalEvent
	sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		got = append(got, ev.Clone())
		events.Put(ev)
		return nil
	})
	p := NewBinance(events, sink, nil)
	held, err := events.TryGet() // the host holds the only event
	require.NoError(t, err)
	ctx := context.Background()

	// A best bid/offer is coalescable: simply dropped.
	err = p.HandleBytes(ctx, fixture(t, "bookTicker_raw"), 1)
	require.ErrorIs(t, err, ErrDropped)
	require.ErrorIs(t, err, pool.ErrExhausted)
	require.Empty(t, got)

	// A trade is ordered: dropped, and a gap marker waits for the pool.
	done := make(chan error)
	go func() { done <- p.HandleBytes(ctx, fixture(t, "trade"), 1) }()
	awaitPoolWait(t, events, done) // the marker is waiting for an event
	events.Put(held)
	require.ErrorIs(t, <-done, ErrDropped)
	require.Len(t, got, 1)
	g := got[0]
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, schema.EventTrade, g.Control.GapType)
	require.Equal(t, "BTC-USDT", g.Symbol)
	require.Equal(t, uint64(4100000001), g.Control.GapFirstSeq)
	require.Equal(t, uint64(1), g.Control.GapCount)
	require.Equal(t, uint64(2), p.Stats().Dropped)

	// An execution report waits for the pool; only ctx ends the wait.
	held, _ = events.TryGet()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = p.HandleBytes(cctx, fixture(t, "exec_new"), 1)
	require.ErrorIs(t, err, ErrDropped)
	require.ErrorIs(t, err, context.Canceled)
	events.Put(held)
	require.NoError(t, p.HandleBytes(ctx, fixture(t, "exec_new"), 1))
	require.Equal(t, schema.EventExecReport, got[len(got)-1].Type)
	require.Zero(t, events.Stats().InUse)
}

func TestSplitBinance(t *testing.T) {
	var r schema.ProviderRaw
	data := []byte(`{"stream":"btcusdt@trade","data":{"e":"trade"}}`)
	require.NoError(t, SplitBinance(data, &r))
	require.Equal(t, "btcusdt@trade", string(r.Stream))
	require.Equal(t, `{"e":"trade"}`, string(r.Payload))
	require.Same(t, &data[len(data)-14], &r.Payload[0], "the payload aliases the frame")

	require.NoError(t, SplitBinance([]byte(`{"subscriptionId":1,"event":{"e":"x"}}`), &r))
	require.Nil(t, r.Stream)
	require.Equal(t, `{"e":"x"}`, string(r.Payload))

	require.NoError(t, SplitBinance([]byte(` [1] `), &r))
	require.Equal(t, ` [1] `, string(r.Payload))

	require.Error(t, SplitBinance([]byte(`"x"`), &r))
	require.Error(t, SplitBinance([]byte(`[1`), &r))
	for _, bad := range []string{`{"stream":"a@b","data":}`, `{"data":{"x":"\"}}`, `{"data":{"a":[1}`, `{"a" 1}`, `{"a":1,}`, `{"a":1`} {
		require.ErrorIs(t, SplitBinance([]byte(bad), &r), ErrMalformed, bad)
	}
	// Escaped quotes and brackets inside strings do not end a value.
	require.NoError(t, SplitBinance([]byte(`{"stream":"a@b","data":{"x":"\\\"}]"}}`), &r))
	require.Equal(t, `{"x":"\\\"}]"}`, string(r.Payload))
}

func TestSplitStream(t *testing.T) {
	for _, tt := range []struct{ in, sym, ch string }{
		{"btcusdt@depth@100ms", "btcusdt", "depth"},
		{"btcusdt@depth5", "btcusdt", "depth5"},
		{"!miniTicker@arr", "", "miniTicker"},
		{"nostream", "", ""},
	} {
		sym, ch := splitStream([]byte(tt.in))
		require.Equal(t, tt.sym, string(sym), tt.in)
		require.Equal(t, tt.ch, string(ch), tt.in)
	}
}

func TestNewBinancePanicsWithoutPoolOrSink(t *testing.T) {
	require.Panics(t, func() { NewBinance(nil, &putSink{}, nil) })
	events := schema.NewPools(nil).Events
	require.Panics(t, func() { NewBinance(events, nil, nil) })
	p := NewBinance(events, &putSink{events: events}, nil)
	require.NotNil(t, p.Symbols())
}
