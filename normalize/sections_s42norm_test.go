package normalize

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s42normExec returns a copy of ev's Exec section, failing the test when
// ev carries none (schema.CanonicalEvent holds it out of line).
func s42normExec(t testing.TB, ev *schema.CanonicalEvent) schema.Execution {
	t.Helper()
	require.NotNil(t, ev.Exec, "a %v event carries no Exec section", ev.Type)
	return *ev.Exec
}

// s42normSecs is every out-of-line section of an event by value.
type s42normSecs struct {
	Ticker      schema.Ticker
	Kline       schema.Kline
	Mark        schema.Mark
	Liquidation schema.Liquidation
	Exec        schema.Execution
	Control     schema.Control
	Balance     schema.Balance
	Position    schema.Position
}

// s42normRead returns ev's out-of-line sections, a missing one read as
// zero, for tests that read every section of events of any type; ev is
// not changed (no section is made).
func s42normRead(ev *schema.CanonicalEvent) s42normSecs {
	var s s42normSecs
	read(&s.Ticker, ev.Ticker)
	read(&s.Kline, ev.Kline)
	read(&s.Mark, ev.Mark)
	read(&s.Liquidation, ev.Liquidation)
	read(&s.Exec, ev.Exec)
	read(&s.Control, ev.Control)
	read(&s.Balance, ev.Balance)
	read(&s.Position, ev.Position)
	return s
}

func read[T any](dst, src *T) {
	if src != nil {
		*dst = *src
	}
}

// s42normDump prints ev as %+v does, but the out-of-line sections it
// carries by value (a pointer prints as an address, which differs between
// two events of equal content) and the ones it does not as <nil>. Raw is
// left out when withRaw is false.
func s42normDump(ev *schema.CanonicalEvent, withRaw bool) string {
	c := ev.Clone()
	if !withRaw {
		c.Raw = nil
	}
	var b strings.Builder
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() || f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		fmt.Fprintf(&b, " %s:%+v", v.Type().Field(i).Name, f.Elem().Interface())
		f.Set(reflect.Zero(f.Type()))
	}
	return fmt.Sprintf("%+v", *c) + b.String()
}

// s42normOnly asserts that ev carries exactly the out-of-line sections
// named (in the order Ticker, Kline, Mark, Liquidation, Exec, Control,
// Balance, Position).
func s42normOnly(t *testing.T, ev *schema.CanonicalEvent, names ...string) {
	t.Helper()
	var carried []string
	for name, nilSection := range map[string]bool{"Ticker": ev.Ticker == nil, "Kline": ev.Kline == nil, "Mark": ev.Mark == nil,
		"Liquidation": ev.Liquidation == nil, "Exec": ev.Exec == nil, "Control": ev.Control == nil,
		"Balance": ev.Balance == nil, "Position": ev.Position == nil} {
		if !nilSection {
			carried = append(carried, name)
		}
	}
	require.ElementsMatch(t, names, carried, "%v event's out-of-line sections", ev.Type)
}

// TestS42normEventsCarryTheirSections: a parsed event carries its type's
// out-of-line section and no other (a control event its Control, a mark
// price its Mark, a trade none). Seen panicking before the writes went
// through Use*: the parser set Control.Kind on every event (nil Control
// on a trade), OKX's mark price and funding rate wrote through a nil Mark.
func TestS42normEventsCarryTheirSections(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, frame string
		venue       schema.Venue
		typ         schema.EventType
		sections    []string
	}{
		{"binance trade", string(s25gapTrade(1)), schema.VenueBinance, schema.EventTrade, nil},
		{"binance ack", `{"result":null,"id":7}`, schema.VenueBinance, schema.EventControl, []string{"Control"}},
		{"binance kline", string(s25gapKline("1m")), schema.VenueBinance, schema.EventKlineLive, []string{"Kline"}},
		{"okx mark price", `{"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP","markPx":"42310.6","ts":"1630049139746"}]}`,
			schema.VenueOKX, schema.EventMarkPrice, []string{"Mark"}},
		{"okx funding rate", `{"arg":{"channel":"funding-rate","instId":"BTC-USDT-SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP","fundingRate":"0.0001","fundingTime":"1700000000000","ts":"1699999000000"}]}`,
			schema.VenueOKX, schema.EventFundingRate, []string{"Mark"}},
		{"okx system status", `{"arg":{"channel":"status"},"data":[{"title":"t","state":"scheduled","begin":"1672823400000","end":"1672825980000","ts":"1672826038470"}]}`,
			schema.VenueOKX, schema.EventControl, []string{"Control"}},
		{"kraken status", `{"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online","api_version":"v2","connection_id":1}]}`,
			schema.VenueKraken, schema.EventControl, []string{"Control"}},
		{"coinbase error", `{"type":"error","message":"Failed to subscribe","reason":"bad product"}`,
			schema.VenueCoinbase, schema.EventControl, []string{"Control"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(c.venue, events, sink)
			require.NoError(t, p.HandleBytes(ctx, []byte(c.frame), 1))
			require.Len(t, sink.got, 1)
			ev := sink.got[0]
			require.Equal(t, c.typ, ev.Type)
			require.NoError(t, s41fuzzCheck(ev))
			s42normOnly(t, ev, c.sections...)
		})
	}
}

// TestS42normStaleMarkersNameTheirStream: the gap marker of a stream left
// stale by a dropped quote carries a Kline or Ticker section only to name
// an interval or a window: a best bid/offer's marker carries neither, a
// 1 m kline's a Kline holding only its interval. Seen panicking before:
// the mark read the dropped BBO's nil Kline (staleKeyOf), the marker was
// filled through the pooled event's nil Kline and Ticker (fillStale).
func TestS42normStaleMarkersNameTheirStream(t *testing.T) {
	ctx := context.Background()
	p, sink, events, held := s25gapParser(t, 4, 0)
	require.ErrorIs(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", 1), 1), ErrDropped)
	require.ErrorIs(t, p.HandleBytes(ctx, s25gapKline("1m"), 1), ErrDropped)
	for _, ev := range held {
		events.Put(ev)
	}
	require.NoError(t, p.HandleBytes(ctx, s25gapTrade(1), 2))
	require.Len(t, sink.evs, 3, "two markers, then the trade")
	byType := map[schema.EventType]*schema.CanonicalEvent{}
	for _, ev := range sink.evs[:2] {
		require.Equal(t, schema.EventGap, ev.Type)
		require.NoError(t, s41fuzzCheck(ev))
		byType[ev.Control.GapType] = ev
	}
	bbo, kline := byType[schema.EventBBO], byType[schema.EventKlineLive]
	require.NotNil(t, bbo)
	require.NotNil(t, kline)
	s42normOnly(t, bbo, "Control")
	s42normOnly(t, kline, "Control", "Kline")
	require.Equal(t, &schema.Kline{Interval: "1m"}, kline.Kline)
	s42normOnly(t, sink.evs[2])
	sink.drain(events)
	require.NoError(t, events.Shutdown(ctx))
}

// TestS42normReadersMakeNoSection: the parser's readers of an event's
// out-of-line sections neither panic on one the event does not carry nor
// make it: the quote key of a best bid/offer (no Ticker: its window reads
// ""), the stale key of a book top (no Kline, no Ticker), the fill memory
// and the fill checks on an event without Exec. Seen failing before: the
// quote key panicked on the nil Ticker, the stale key on the nil Kline,
// and repeatFill, needFill and needFillPrice made an Exec section (their
// UseExec) on an event that carried none.
func TestS42normReadersMakeNoSection(t *testing.T) {
	p := NewBinance(schema.NewPools(nil).Events, SinkFunc(func(context.Context, *schema.CanonicalEvent) error { return nil }), nil)
	p.quotes = map[quoteKey]quoteMark{}
	bbo := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBBO, ExchangeTS: 1, IngestTS: 1}
	require.False(t, p.olderThanOtherKind(bbo, 0))
	require.Contains(t, p.quotes, quoteKey{sym: "BTC-USDT", kind: typeMark | uint16(schema.EventBBO)})
	top := &schema.CanonicalEvent{Symbol: "BTC-USDT", Type: schema.EventBookSnapshot, Book: schema.Book{Depth: 5}}
	require.Equal(t, staleKey{symbol: "BTC-USDT", typ: schema.EventBookSnapshot, depth: 5}, staleKeyOf(top))
	ev := &schema.CanonicalEvent{Symbol: "BTC-USDT", Type: schema.EventExecReport}
	require.False(t, p.repeatFill(ev, amendNone))
	f := &filler{p: p, ev: ev}
	f.needFill("x")
	f.needFillPrice("y", num{})
	require.NoError(t, f.err)
	for _, e := range []*schema.CanonicalEvent{bbo, top, ev} {
		s42normOnly(t, e)
	}
}

// TestS42normScratchKeepsSections: a market-data message decoded while the
// pool is exhausted goes to the emitter's scratch event; filling its
// out-of-line sections allocates nothing once each was used, as a pooled
// event's. Seen failing (1 allocation a section) while the scratch was a
// plain value, whose Use methods make a new section each time: a ticker
// dropped on an exhausted pool cost one more allocation than before the
// compact layout.
func TestS42normScratchKeepsSections(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	ctx := context.Background()
	p, _, _, _ := s25gapParser(t, 1, 0)
	fill := func() {
		ev, pooled, err := p.acquire(ctx, schema.EventTicker, 1)
		if err != nil || pooled {
			t.Fatalf("the scratch event: pooled %v, %v", pooled, err)
		}
		ev.UseTicker().Window = "1h"
		ev.UseKline().Interval = "1m"
		ev.UseMark().FundingRate = schema.NewDecimal(1, 4)
	}
	fill()
	require.Zero(t, testing.AllocsPerRun(100, fill))
	ev, _, err := p.acquire(ctx, schema.EventTicker, 1)
	require.NoError(t, err)
	s42normOnly(t, ev) // Reset: none carried
}

// TestS42normDepthSnapshotKeepsSectionStorage: ParseBinanceDepthSnapshot
// fills a pooled dst without taking its out-of-line sections' storage
// away: a section dst carried is dropped (a snapshot carries none), and a
// later Use gets dst's own storage, zeroed. Seen failing before: the
// event was copied whole into dst (*dst = *ev), so dst took the decoder's
// event's storage (none) and its next UseControl made a new section.
func TestS42normDepthSnapshotKeepsSectionStorage(t *testing.T) {
	data := []byte(`{"lastUpdateId":499869752,"bids":[["0.35210000","672.00000000"]],"asks":[["0.35260000","3199.00000000"]]}`)
	events := schema.NewPools(nil).Events
	dst, err := events.Get(context.Background())
	require.NoError(t, err)
	c := dst.UseControl()
	c.Reason = "stale"
	require.NoError(t, ParseBinanceDepthSnapshot(context.Background(), nil, "NKNUSDT", data, dst))
	require.Equal(t, schema.EventBookSnapshot, dst.Type)
	s42normOnly(t, dst)
	require.Same(t, c, dst.UseControl(), "dst's own storage")
	require.Equal(t, schema.Control{}, *dst.Control, "zeroed: nothing of what dst carried")
	events.Put(dst)
}
