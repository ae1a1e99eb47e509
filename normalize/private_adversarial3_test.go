package normalize

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Adversarial tests of the private channels of OKX, Bybit, Kraken and
// Coinbase, built from each venue's documented rules: no fill invented
// from a report that is not one, no fill delivered twice, unknown words
// refused typed.

// connFeed is one parser fed frames on the connections a test names.
type connFeed struct {
	t      *testing.T
	p      frameParser
	sink   *recSink
	events *pool.Pool[*schema.CanonicalEvent]
}

func newConnFeed(t *testing.T, venue schema.Venue) *connFeed {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	f := &connFeed{t: t, p: newVenueParser(venue, events, sink), sink: sink, events: events}
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return f
}

// feed hands msg to the parser as a frame of connection conn and returns
// the events it published and its error.
func (c *connFeed) feed(conn uint64, msg string) ([]*schema.CanonicalEvent, error) {
	c.t.Helper()
	c.sink.got = nil
	err := c.p.(*Parser).HandleFrame(context.Background(), &schema.WsFrame{Provider: c.p.(*Parser).venue, ConnID: conn, ReceivedAt: int64(conn), Data: []byte(msg)})
	return c.sink.got, err
}

// requireRefused asserts that msg, the first frame of a new parser of
// venue, is a *ParseError naming field and wrapping target, and that
// nothing is published.
func requireRefused(t *testing.T, venue schema.Venue, msg, field string, target error) {
	t.Helper()
	evs, err := newConnFeed(t, venue).feed(1, msg)
	var pe *ParseError
	require.True(t, errors.As(err, &pe), "got %v", err)
	require.Equal(t, field, pe.Field)
	require.ErrorIs(t, err, target)
	require.Empty(t, notRefused(evs)) // s25gap: a refused report is announced (execloss.go)
}

// fills counts the ExecTrade reports among evs and sums their quantities.
func fills(evs []*schema.CanonicalEvent) (n int, qty schema.Decimal) {
	for _, ev := range evs {
		if ev.Type == schema.EventExecReport && ev.Exec.ExecType == schema.ExecTrade {
			n++
			qty, _ = qty.Add(ev.Exec.LastFillQty)
		}
	}
	return n, qty
}

// Kraken Spot WebSocket v2 "Executions": "A trade event can report
// order_status: partially_filled even when that trade fills the entire
// order. A separate exec_type: filled update reports completion." That
// update carries no trade (no trade_id, last_qty, last_price): it is the
// order's status, not a second fill.
func TestAdv3KrakenFilledIsNotAFill(t *testing.T) {
	c := newConnFeed(t, kr)
	_, err := c.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","order_qty":0.5,"side":"buy","order_type":"limit","limit_price":42000.1,"exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`)
	require.NoError(t, err)
	evs, err := c.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","exec_id":"E-1","exec_type":"trade","trade_id":101,"symbol":"BTC/USD","side":"buy","last_qty":0.5,"last_price":42000.1,"cum_qty":0.5,"cum_cost":21000.05,"fees":[{"asset":"USD","qty":33.6}],"liquidity_ind":"t","order_status":"partially_filled","timestamp":"2024-01-02T03:04:05.123000Z"}],"sequence":2}`)
	require.NoError(t, err)
	n, q := fills(evs)
	require.Equal(t, 1, n)
	requireDigits(t, "0.5", q)
	evs, err = c.feed(1, `{"channel":"executions","type":"update","data":[{"exec_type":"filled","order_id":"OK-1","symbol":"BTC/USD","side":"buy","order_status":"filled","timestamp":"2024-01-02T03:04:06.000000Z"}],"sequence":3}`)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	x := evs[0].Exec
	require.NotEqual(t, schema.ExecTrade, x.ExecType, "exec_type filled without a trade is no fill")
	require.True(t, x.LastFillQty.IsZero())
	require.True(t, x.TradeID.IsZero())
	require.Equal(t, schema.StatusFilled, x.Status)
	requireDigits(t, "0.5", x.CumFillQty)
}

// An exec_type no table names is refused typed (a *ParseError naming
// exec_type), not delivered as ExecUnknown — unless the report carries a
// fill, which is never dropped for a word (it is a Trade).
func TestAdv3UnknownExecTypeTyped(t *testing.T) {
	t.Run("kraken no fill", func(t *testing.T) {
		requireRefused(t, kr, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","exec_type":"teleported","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`,
			"exec_type", ErrUnknownExecType)
	})
	t.Run("kraken fill", func(t *testing.T) {
		c := newConnFeed(t, kr)
		evs, err := c.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","exec_type":"trade_v2","trade_id":7,"last_qty":0.1,"last_price":100,"order_status":"partially_filled","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`)
		require.NoError(t, err)
		n, q := fills(evs)
		require.Equal(t, 1, n)
		requireDigits(t, "0.1", q)
	})
	t.Run("bybit", func(t *testing.T) {
		requireRefused(t, by, bybitExec("Teleport", "E-1", "1", "0"), "execType", ErrUnknownExecType)
	})
}

// bybitExec is an execution topic frame (Bybit v5 "Execution") of one
// execution of order o-1 (qty 2) with execType typ.
func bybitExec(typ, execID, execQty, leaves string) string {
	return `{"id":"592324803b2785-26fa-4214-9963-bdd4727f07be","topic":"execution","creationTime":1672364174455,"data":[{"category":"linear","symbol":"BTCUSDT","execFee":"0.005061","execId":"` + execID +
		`","execPrice":"0.3374","execQty":"` + execQty + `","execType":"` + typ + `","execValue":"8.435","isMaker":false,"feeRate":"0.0006","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"0.3391","indexPrice":"","underlyingPrice":"","leavesQty":"` + leaves +
		`","orderId":"o-1","orderLinkId":"","orderPrice":"0.3207","orderQty":"2","orderType":"Market","stopOrderType":"UNKNOWN","side":"Sell","execTime":"1672364174443","isLeverage":"0","closedSize":"","seq":4688002127}]}`
}

// Bybit v5 "Enums → execType": Funding is the funding fee charged on a
// position, not a fill. Its execQty is the position's size and its
// execPrice the mark price: neither a fill quantity nor a price, and no
// order of ours was Filled by it.
func TestAdv3BybitFundingIsNotAFill(t *testing.T) {
	c := newConnFeed(t, by)
	evs, err := c.feed(1, bybitExec("Funding", "F-1", "2", "0"))
	require.NoError(t, err)
	require.Empty(t, evs, "a funding fee is no execution report (s36norm: bybitAccountExecs)")
	require.Equal(t, uint64(1), c.p.Stats().Ignored)
}

// A fill a venue sends again — the same push on the old and the new
// connection of a make-before-break rotation, the same execution restated
// after a reconnect (Kraken's snap_trades snapshot: "the last 50 order
// fills") — is one fill: the strategy's position must not count it twice.
func TestAdv3FillNotDeliveredTwice(t *testing.T) {
	okxFill := `{"arg":{"channel":"orders","instType":"SPOT","uid":"1"},"data":[{"instType":"SPOT","instId":"BTC-USDT","ordId":"O-1","clOrdId":"c1","px":"100","sz":"2","ordType":"limit","side":"buy","fillPx":"100","fillSz":"1","fillTime":"1700000000100","tradeId":"T-9","fillFee":"-0.001","fillFeeCcy":"BTC","execType":"M","accFillSz":"1","avgPx":"100","state":"partially_filled","uTime":"1700000000100","cTime":"1700000000000"}]}`
	krTrade := `{"channel":"executions","type":"%s","data":[{"order_id":"OK-1","exec_id":"E-1","exec_type":"trade","trade_id":101,"symbol":"BTC/USD","side":"buy","last_qty":0.5,"last_price":42000.1,"cum_qty":0.5,"cum_cost":21000.05,"fees":[{"asset":"USD","qty":33.6}],"liquidity_ind":"t","order_status":"partially_filled","timestamp":"2024-01-02T03:04:05.123000Z"}],"sequence":%d}`
	tests := []struct {
		name  string
		venue schema.Venue
		first string
		again string
	}{
		{"okx rotation", ox, okxFill, okxFill},
		{"bybit rotation", by, bybitExec("Trade", "E-7", "1", "1"), bybitExec("Trade", "E-7", "1", "1")},
		{"kraken snap_trades after reconnect", kr, fmt.Sprintf(krTrade, "update", 2), fmt.Sprintf(krTrade, "snapshot", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConnFeed(t, tc.venue)
			evs, err := c.feed(1, tc.first)
			require.NoError(t, err)
			n, _ := fills(evs)
			require.Equal(t, 1, n)
			evs, err = c.feed(2, tc.again)
			require.NoError(t, err)
			n, _ = fills(evs)
			require.Zero(t, n, "the same fill delivered twice")
			require.Equal(t, uint64(1), c.p.Stats().Repeats)
		})
	}
}

// Coinbase's user channel sends cumulative values only; the parser derives
// each fill from their growth. An order's final state sent twice (an
// update restating FILLED, as the venue does when its fees settle) must not
// report the whole order as filled a second time.
func TestAdv3CoinbaseFinalRepeatNoSecondFill(t *testing.T) {
	c := newConnFeed(t, cb)
	evs, err := c.feed(1, string(coinbaseUser("update", "OPEN", "0", "1", "0", "0")))
	require.NoError(t, err)
	n, _ := fills(evs)
	require.Zero(t, n)
	evs, err = c.feed(1, string(coinbaseUser("update", "FILLED", "1", "0", "50000.00", "30.00")))
	require.NoError(t, err)
	n, q := fills(evs)
	require.Equal(t, 1, n)
	requireDigits(t, "1", q)
	evs, err = c.feed(1, string(coinbaseUser("update", "FILLED", "1", "0", "50000.00", "30.00")))
	require.NoError(t, err)
	n, _ = fills(evs)
	require.Zero(t, n, "a restated FILLED is no second fill")
	for _, ev := range evs {
		require.Equal(t, schema.StatusFilled, ev.Exec.Status)
	}
}

// A Trade report whose fill has no quantity (Kraken "trade" without
// last_qty, Bybit execQty "0") is malformed: a *ParseError naming the
// venue's key, never an ExecTrade of zero a strategy would count.
func TestAdv3FillOfNothingRefused(t *testing.T) {
	for _, tc := range []struct {
		venue schema.Venue
		msg   string
		field string
	}{
		{kr, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","exec_type":"trade","trade_id":5,"symbol":"BTC/USD","order_status":"partially_filled","timestamp":"2024-01-02T03:04:05.123000Z"}],"sequence":2}`, "last_qty"},
		{by, bybitExec("Trade", "E-1", "0", "2"), "execQty"},
	} {
		t.Run(string(tc.venue), func(t *testing.T) { requireRefused(t, tc.venue, tc.msg, tc.field, ErrBadValue) })
	}
}

// FuzzPrivateFills feeds two private frames of one venue, the first again
// on a new connection, then the second: whatever they hold, every Trade
// report is a fill of a positive quantity of a named order, no fill
// (venue, symbol, order, trade id) is delivered twice, and Coinbase's
// fills of an order (the growth of its cumulative quantity) never add up
// to more than its cumulative quantity.
func FuzzPrivateFills(f *testing.F) {
	venues := []schema.Venue{ox, by, kr, cb}
	seeds := map[schema.Venue][]string{
		ox: {`{"arg":{"channel":"orders","instType":"SPOT","uid":"1"},"data":[{"instType":"SPOT","instId":"BTC-USDT","ordId":"O-1","clOrdId":"c1","px":"100","sz":"2","ordType":"limit","side":"buy","fillPx":"100","fillSz":"1","fillTime":"1700000000100","tradeId":"T-9","fillFee":"-0.001","fillFeeCcy":"BTC","execType":"M","accFillSz":"1","avgPx":"100","state":"partially_filled","uTime":"1700000000100","cTime":"1700000000000"}]}`},
		by: {bybitExec("Trade", "E-1", "1", "1"), bybitExec("Funding", "F-1", "2", "0")},
		kr: {`{"channel":"executions","type":"snapshot","data":[{"order_id":"OK-1","exec_id":"E-1","exec_type":"trade","trade_id":101,"symbol":"BTC/USD","side":"buy","last_qty":0.5,"last_price":42000.1,"cum_qty":0.5,"cum_cost":21000.05,"fees":[{"asset":"USD","qty":33.6}],"liquidity_ind":"t","order_status":"partially_filled","timestamp":"2024-01-02T03:04:05.123000Z"}],"sequence":1}`,
			`{"channel":"executions","type":"update","data":[{"exec_type":"filled","order_id":"OK-1","symbol":"BTC/USD","side":"buy","order_status":"filled","timestamp":"2024-01-02T03:04:06.000000Z"}],"sequence":3}`},
		cb: {string(coinbaseUser("snapshot", "OPEN", "0.1", "0.9", "5000.00", "1.00")), string(coinbaseUser("update", "FILLED", "1", "0", "50000.00", "30.00"))},
	}
	for i, v := range venues {
		s := seeds[v]
		f.Add(uint8(i), []byte(s[0]), []byte(s[len(s)-1]))
		f.Add(uint8(i), []byte(s[0]), []byte(s[0]))
	}
	// Two updates of an open order, each seen on both connections of a
	// rotation (a per-connection baseline counted them three times).
	f.Add(uint8(3), coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "1.00"), coinbaseUser("update", "OPEN", "0.7", "0.3", "35000.00", "1.75"))
	f.Fuzz(func(t *testing.T, vi uint8, a, b []byte) {
		venue := venues[int(vi)%len(venues)]
		events := pool.New("fuzz", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		seen := map[fillKey]bool{}
		filled, most := map[fillKey]schema.Decimal{}, map[fillKey]schema.Decimal{}
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			defer events.Put(ev)
			if err := s41fuzzCheck(ev); err != nil {
				t.Fatalf("published an invalid event: %v: %+v", err, ev)
			}
			x := ev.Exec // s41fuzzCheck: a report carries it (it names an order)
			if ev.Type != schema.EventExecReport || x.ExecType != schema.ExecTrade {
				return nil
			}
			if x.LastFillQty.Sign() <= 0 || x.VenueOrderID.IsZero() {
				t.Fatalf("a Trade report of no fill: %+v", ev)
			}
			if venue == cb { // fills are growth of the cumulative quantity: never more than the most it reached
				k := fillKey{symbol: ev.Symbol, order: x.VenueOrderID}
				filled[k], _ = filled[k].Add(x.LastFillQty)
				if x.CumFillQty.Cmp(most[k]) > 0 {
					most[k] = x.CumFillQty
				}
				if filled[k].Cmp(most[k]) > 0 {
					t.Fatalf("fills add up to %s, more than the order's cumulative %s", filled[k], most[k])
				}
			}
			if !x.TradeID.IsZero() {
				k := fillKey{symbol: ev.Symbol, order: x.VenueOrderID, trade: x.TradeID}
				if seen[k] {
					t.Fatalf("fill delivered twice: %+v", ev)
				}
				seen[k] = true
			}
			return nil
		})
		p := newVenueParser(venue, events, sink)
		for i, fr := range []struct {
			data []byte
			conn int64
		}{{a, 1}, {b, 1}, {a, 2}, {b, 2}} {
			err := p.(*Parser).HandleFrame(context.Background(), &schema.WsFrame{Provider: venue, ConnID: uint64(fr.conn), ReceivedAt: fr.conn, Data: fr.data})
			var pe *ParseError
			if err != nil && (!errors.As(err, &pe) || pe.Venue != venue || pe.Err == nil) {
				t.Fatalf("frame %d: not a *ParseError of %s: %v", i, venue, err)
			}
			if n := events.Stats().InUse; n != 0 {
				t.Fatalf("frame %d: %d events not returned", i, n)
			}
		}
		if st := p.Stats(); st.Panics != 0 {
			t.Fatalf("%d panics", st.Panics)
		}
	})
}

// An execution report whose order id is sent empty names no order: a
// *ParseError (ErrMissingField) on every venue, not a report, let alone a
// fill, no order can claim (found by FuzzPrivateFills).
func TestAdv3EmptyOrderIDRefused(t *testing.T) {
	for _, tc := range []struct {
		venue schema.Venue
		msg   string
		field string
	}{
		{kr, `{"channel":"executions","data":[{"order_id":"","last_qty":1}]}`, "order_id"},
		{ox, `{"arg":{"channel":"orders","instType":"SPOT","uid":"1"},"data":[{"instId":"BTC-USDT","ordId":"","side":"buy","fillPx":"100","fillSz":"1","tradeId":"T-9","state":"filled","uTime":"1700000000100"}]}`, "ordId"},
		{by, strings.Replace(bybitExec("Trade", "E-1", "1", "1"), `"orderId":"o-1"`, `"orderId":""`, 1), "orderId"},
		{cb, string(bytes.Replace(coinbaseUser("update", "FILLED", "1", "0", "50000.00", "30.00"), []byte(`"a1b2c3d4"`), []byte(`""`), 1)), "order_id"},
	} {
		t.Run(string(tc.venue), func(t *testing.T) { requireRefused(t, tc.venue, tc.msg, tc.field, ErrMissingField) })
	}
}

// TestAdv3NewFillsZeroAllocs: fills of new trade ids — each one
// remembered to drop its repeats, the oldest forgotten once
// maxRecentFills are held — cost no allocation once the set is full.
// (The shared zero-allocation test feeds one fill again and again, which
// is now a repeat: this one measures the path of a fill that is new.)
func TestAdv3NewFillsZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	const runs = 200
	msgs := make([][]byte, maxRecentFills+runs+1)
	for i := range msgs {
		msgs[i] = []byte(bybitExec("Trade", fmt.Sprintf("E-%08d", i), "1", "1"))
	}
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	p := NewBybit(events, sink, nil)
	ctx := context.Background()
	for _, m := range msgs[:maxRecentFills] { // fill the set: the ring wraps from here on
		require.NoError(t, p.HandleBytes(ctx, m, 1))
	}
	next := maxRecentFills
	allocs := testing.AllocsPerRun(runs, func() {
		if err := p.HandleBytes(ctx, msgs[next], 1); err != nil {
			t.Fatal(err)
		}
		next++
	})
	require.Zero(t, allocs)
	require.Equal(t, maxRecentFills+runs+1, sink.n, "every new fill published")
	require.Zero(t, p.Stats().Repeats)
}

// Coinbase's fills are the growth of cumulative_quantity. A report whose
// cumulative values are behind the last one (a stale update delivered
// late) is no negative fill and must not lower the baseline: the next
// report's growth would count the same quantity a second time. Whatever
// the order of the reports, the fills add up to the order's final
// cumulative quantity.
func TestAdv3CoinbaseStaleUpdateNoRecount(t *testing.T) {
	c := newConnFeed(t, cb)
	var total schema.Decimal
	for _, r := range [][3]string{
		{"OPEN", "0", "1"}, {"OPEN", "0.4", "0.6"}, {"OPEN", "0.3", "0.7"}, {"FILLED", "1", "0"},
	} {
		value, _ := dec(r[1]).Mul(dec("50000"))
		evs, err := c.feed(1, string(coinbaseUser("update", r[0], r[1], r[2], value.String(), "0")))
		require.NoError(t, err)
		_, q := fills(evs)
		total, _ = total.Add(q)
	}
	require.True(t, total.Equal(dec("1")), "fills add up to %s, not the order's 1", total)
}
