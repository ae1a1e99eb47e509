package dispatch

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A host publishes events it made: one whose Type names an out-of-line
// section it does not carry (schema's compact event: nil unless carried)
// is routed, coalesced, dropped and reported as one whose section is
// zero — a ticker or kline of the view "", a gap marker about every type —
// and delivered as published, its section still nil; the queue's own gap
// markers about such streams carry Control and no view section. Before
// the fix the first Publish panicked (streamKey read ev.Kline.Interval),
// and with that fixed the drops did (queueGap wrote g.Kline.Interval).
func TestS42dispHostEventsWithoutSections(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{OrderedBound: 1}, schema.EventTrade)
	s.mu.Lock()
	s.quoteBound = 1
	s.mu.Unlock()
	bare := []struct {
		sym string
		typ schema.EventType
	}{
		{"BTC-USDT", schema.EventGap}, // no Control: about every stream of the symbol
		{"BTC-USDT", schema.EventTicker},
		{"ETH-USDT", schema.EventTicker}, // over quoteBound: BTC's ticker dropped
		{"BTC-USDT", schema.EventKlineClosed},
		{"BTC-USDT", schema.EventKlineClosed}, // over OrderedBound: the first dropped
		{"BTC-USDT", schema.EventExecReport},
		{"", schema.EventConnState},
		{"BTC-USDT", schema.EventMarkPrice},
		{"BTC-USDT", schema.EventLiquidation},
		{"", schema.EventBalance},
		{"BTC-USDT", schema.EventPosition},
		{"", schema.EventGap}, // no Control, no symbol: about every stream of the venue
	}
	for i, b := range bare {
		publish(t, d, p, bin, b.sym, b.typ, uint64(10+i))
	}
	r.open()
	closeDispatcher(t, d) // delivers everything queued
	var queueGaps int
	for _, ev := range r.got()[1:] {
		if ev.Type == schema.EventGap && ev.Control != nil {
			queueGaps++
			assert.Equal(t, schema.GapSubscriberQueue, ev.Control.GapSource)
			assert.Nil(t, ev.Kline, "no view to name: %+v", ev)
			assert.Nil(t, ev.Ticker, "no view to name: %+v", ev)
			continue
		}
		assert.Nil(t, ev.Ticker)
		assert.Nil(t, ev.Kline)
		assert.Nil(t, ev.Exec)
		assert.Nil(t, ev.Control)
		assert.Nil(t, ev.Mark)
		assert.Nil(t, ev.Liquidation)
		assert.Nil(t, ev.Balance)
		assert.Nil(t, ev.Position)
	}
	assert.Equal(t, 3, queueGaps, "about BTC's ticker, ETH's (dropped for the mark price) and the kline dropped")
	assert.Equal(t, uint64(3), s.Stats().Gaps)
}

// The queue's gap marker names the view of the stream that lost events,
// in the section the stream's events carry it in, and is one allocation
// with its sections.
func TestS42dispQueueGapNamesTheView(t *testing.T) {
	kline := &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventKlineClosed, Kline: &schema.Kline{Interval: "1h", Close: schema.NewDecimal(5, 0)}}
	ticker := &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventTicker, Ticker: &schema.Ticker{Window: "4h", WindowClose: 9, Last: schema.NewDecimal(5, 0)}}
	book := &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventBookUpdate, Book: schema.Book{Depth: 50}}

	g := queueGap(kline, true)
	assert.Equal(t, &schema.Kline{Interval: "1h"}, g.Kline)
	assert.Nil(t, g.Ticker)
	assert.Equal(t, keyOf(kline), streamKey(g, g.Control.GapType))
	g = queueGap(ticker, true)
	assert.Equal(t, &schema.Ticker{Window: "4h", WindowClose: 9}, g.Ticker)
	assert.Nil(t, g.Kline)
	assert.Equal(t, keyOf(ticker), streamKey(g, g.Control.GapType))
	g = queueGap(book, true)
	assert.Nil(t, g.Kline)
	assert.Nil(t, g.Ticker)
	assert.Equal(t, keyOf(book), streamKey(g, g.Control.GapType))
	g = queueGap(kline, false)
	assert.Nil(t, g.Kline, "about every symbol: no view")
	assert.Empty(t, g.Symbol)
	assert.Equal(t, schema.Control{Kind: schema.ControlGap, GapType: schema.EventKlineClosed, GapCount: 1, GapSource: schema.GapSubscriberQueue}, *g.Control)

	for _, ev := range []*schema.CanonicalEvent{kline, ticker, book} {
		assert.Equal(t, 1.0, testing.AllocsPerRun(20, func() { _ = queueGap(ev, true) }), "%v", ev.Type)
	}
}

// Every out-of-line section a publish's event carries, even a zero one,
// is carried by each clone, in memory of its own (a subscriber may change
// it): the nil-ness of every section is the original's.
func TestS42dispClonesCarryWhatTheOriginalCarries(t *testing.T) {
	t.Parallel()
	for k := range outKinds {
		for _, raw := range []int{0, 100} {
			t.Run(fmt.Sprintf("kind%d/raw=%d", k, raw), func(t *testing.T) {
				src := &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventTicker, Raw: make([]byte, raw)}
				outKinds[k].carve(src, outKinds[k].array(1), &schema.CanonicalEvent{
					Ticker: &schema.Ticker{}, Kline: &schema.Kline{}, Mark: &schema.Mark{}, Liquidation: &schema.Liquidation{},
					Exec: &schema.Execution{}, Control: &schema.Control{}, Balance: &schema.Balance{}, Position: &schema.Position{},
				}) // a zero section of kind k
				require.Equal(t, outKinds[k].bit, sectionsOf(src))
				cl := newClones(src, 3)
				var got []*schema.CanonicalEvent
				for range 3 {
					c := cl.take()
					cl.next()
					assert.Equal(t, unheadered(src.Clone()), unheadered(c))
					assert.Equal(t, outKinds[k].bit, sectionsOf(c), "the zero section carried, no other")
					got = append(got, c)
				}
				field := func(ev *schema.CanonicalEvent) uintptr { // the section of kind k
					return reflect.ValueOf(ev).Elem().FieldByName([...]string{"Ticker", "Kline", "Mark", "Liquidation", "Exec", "Control", "Balance", "Position"}[k]).Pointer()
				}
				assert.NotEqual(t, field(got[0]), field(got[1]), "each clone's own")
				assert.NotEqual(t, field(src), field(got[0]), "not the original's")
				// copyInto over a clone of another kind: the new section
				// only, the old one let go.
				other := &schema.CanonicalEvent{Venue: bin, Mark: &schema.Mark{}, Raw: make([]byte, raw)}
				if outKinds[k].bit == secMark {
					other = &schema.CanonicalEvent{Venue: bin, Kline: &schema.Kline{}, Raw: make([]byte, raw)}
				}
				require.True(t, copyInto(got[0], other, sectionsOf(got[0]), sectionsOf(other)))
				assert.Equal(t, sectionsOf(other), sectionsOf(got[0]))
				assert.Equal(t, unheadered(src.Clone()), unheadered(got[1]), "a sibling untouched")
			})
		}
	}
}

// The clones' out-of-line sections are carved per publish, not made per
// clone: one allocation for an event with one section and no payload
// (each clone boxed with its section), one more per section kind beside
// a payload, and none when a queued clone is replaced in place by an
// event carrying the same section. Before, each clone's section was a
// malloc of its own (schema's Use*): a ticker to 16 subscribers cost 17.
func TestS42dispSectionsCarvedPerPublish(t *testing.T) { // not parallel: it counts allocations
	ticker := func(raw int) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventTicker, Raw: make([]byte, raw),
			Ticker: &schema.Ticker{Last: schema.NewDecimal(1, 0), Window: "1h"}}
	}
	orderGap := &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventGap,
		Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport}, Exec: &schema.Execution{RejectReason: "x"}}
	for _, tc := range []struct {
		name   string
		ev     *schema.CanonicalEvent
		subs   int
		allocs float64
	}{
		{"ticker to 16", ticker(0), 16, 1},
		{"ticker to 64", ticker(0), 64, 1},
		{"control to 16", &schema.CanonicalEvent{Venue: bin, Type: schema.EventConnState, Control: &schema.Control{Kind: schema.ControlConnState}}, 16, 1},
		{"ticker and raw to 16", ticker(100), 16, 2},
		{"exec and control to 16", orderGap, 16, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := testing.AllocsPerRun(20, func() {
				cl := newClones(tc.ev, tc.subs)
				for range tc.subs {
					_ = cl.take()
					cl.next()
				}
			})
			assert.Equal(t, tc.allocs, got)
		})
	}
	t.Run("ticker replacing a ticker in place", func(t *testing.T) {
		src := ticker(8)
		cl := newClones(src, 1)
		dst := cl.take()
		at := dst.Ticker
		next := ticker(8)
		next.Ticker.Last = schema.NewDecimal(2, 0)
		s := sectionsOf(next)
		assert.Zero(t, testing.AllocsPerRun(20, func() { require.True(t, copyInto(dst, next, s, s)) }))
		assert.Same(t, at, dst.Ticker, "the queued clone's section reused")
		assert.Equal(t, *next.Ticker, *dst.Ticker)
	})
}
