package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// s27ctCoalescable lists every type schema says is coalescable, checked
// against EventType.Coalescable so that a type added later is not missed.
func s27ctCoalescable(t *testing.T) []schema.EventType {
	t.Helper()
	var out []schema.EventType
	for typ := schema.EventUnknown; typ <= schema.EventPosition+4; typ++ {
		if typ.Coalescable() {
			out = append(out, typ)
		}
	}
	require.ElementsMatch(t, []schema.EventType{schema.EventBBO, schema.EventTicker, schema.EventKlineLive, schema.EventMarkPrice, schema.EventFundingRate}, out,
		"schema's coalescable types are the five its docs name")
	return out
}

// s27ctHeld is a subscriber whose handler is held until release, recording
// what it gets.
type s27ctHeld struct {
	mu      sync.Mutex
	got     []string
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func s27ctKey(ev *schema.CanonicalEvent) string {
	if ev.Type == schema.EventGap {
		return fmt.Sprintf("gap %s %s %v", ev.Venue, ev.Symbol, ev.Control.GapType)
	}
	k := fmt.Sprintf("%v %s %s", ev.Type, ev.Venue, ev.Symbol)
	if ev.Type == schema.EventKlineLive {
		k += " " + ev.Kline.Interval
	}
	return fmt.Sprintf("%s #%d", k, ev.SeqProvider)
}

func (h *s27ctHeld) handle(ev *schema.CanonicalEvent) {
	h.once.Do(func() { close(h.entered) })
	<-h.release
	h.mu.Lock()
	h.got = append(h.got, s27ctKey(ev))
	h.mu.Unlock()
}

func s27ctHold(t *testing.T, d *dispatch.Dispatcher, pools *schema.Pools) (*s27ctHeld, *dispatch.Subscription) {
	t.Helper()
	h := &s27ctHeld{entered: make(chan struct{}), release: make(chan struct{})}
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: h.handle})
	require.NoError(t, err)
	// The handler is held inside its first call, on a venue status event,
	// so that everything published next waits in the queues.
	ev := s27ctEvent(t, pools, schema.EventControl, schema.VenueCoinbase, "", 0)
	ev.UseControl().Kind = schema.ControlStatus
	require.NoError(t, d.Publish(context.Background(), ev))
	s27ctClosed(t, h.entered, "the held handler got its first event")
	return h, sub
}

func s27ctQuote(t *testing.T, pools *schema.Pools, typ schema.EventType, venue schema.Venue, symbol, interval string, seq uint64) *schema.CanonicalEvent {
	ev := s27ctEvent(t, pools, typ, venue, symbol, seq)
	px, err := schema.ParseDecimal(fmt.Sprintf("%d.5", seq))
	require.NoError(t, err)
	switch typ {
	case schema.EventBBO:
		ev.BBO.BidPrice, ev.BBO.AskPrice = px, px
	case schema.EventTicker:
		ev.UseTicker().Last = px
	case schema.EventKlineLive:
		k := ev.UseKline()
		k.Interval, k.Close = interval, px
	case schema.EventMarkPrice:
		ev.UseMark().MarkPrice = px
	case schema.EventFundingRate:
		ev.UseMark().FundingRate = px
	}
	return ev
}

func (h *s27ctHeld) wait(t *testing.T, sub *dispatch.Subscription) []string {
	t.Helper()
	close(h.release)
	require.Eventually(t, sub.Idle, s27ctWait, time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// Contract 4: coalescable events are latest-wins per key (venue, symbol,
// type) — and per view for klines, "so that Binance's 1 m and 1 h candles
// coalesce apart" — "a newer one replaces it in place ... and keeps its
// place in line". For every coalescable type, two venues, two symbols and
// (for klines) two intervals, 40 updates each to a held subscriber: it
// gets exactly the 40th of each stream, in the order the streams were
// first queued, and Stats.Coalesced counts the 39 replaced of each.
func TestS27ctLatestWinsForEveryCoalescableType(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	h, sub := s27ctHold(t, d, pools)
	type stream struct {
		typ      schema.EventType
		venue    schema.Venue
		symbol   string
		interval string
	}
	var streams []stream
	for _, typ := range s27ctCoalescable(t) {
		for _, venue := range []schema.Venue{schema.VenueBinance, schema.VenueOKX} {
			for _, symbol := range []string{"BTC-USDT", "ETH-USDT"} {
				if typ == schema.EventKlineLive {
					streams = append(streams, stream{typ, venue, symbol, "1m"}, stream{typ, venue, symbol, "1h"})
					continue
				}
				streams = append(streams, stream{typ, venue, symbol, ""})
			}
		}
	}
	const n = 40
	for seq := uint64(1); seq <= n; seq++ {
		for _, s := range streams {
			require.NoError(t, d.Publish(ctx, s27ctQuote(t, pools, s.typ, s.venue, s.symbol, s.interval, seq)))
		}
	}
	var want []string
	for _, s := range streams {
		want = append(want, s27ctKey(s27ctQuoteView(s.typ, s.venue, s.symbol, s.interval, n)))
	}
	got := h.wait(t, sub)
	require.NotEmpty(t, got)
	assert.Equal(t, want, got[1:], "the latest of every stream, each once, in first-queued order")
	assert.Equal(t, uint64(len(streams)*(n-1)), sub.Stats().Coalesced)
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

func s27ctQuoteView(typ schema.EventType, venue schema.Venue, symbol, interval string, seq uint64) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Type: typ, Venue: venue, Symbol: symbol, SeqProvider: seq}
	if typ == schema.EventKlineLive {
		ev.Kline = &schema.Kline{Interval: interval}
	}
	return ev
}

// Never silently stale, for every coalescable type: "A gap marker about a
// coalescable stream ... replaces what those streams have queued ...: it
// goes ahead on the critical lane, and a quote from before the loss
// delivered after it would pass for the stream's state after it." Three
// forms of marker are checked for each type: one naming the stream (type
// and symbol), one naming the type but no symbol (every symbol of the
// venue), and one naming no type (GapType EventUnknown: every stream of
// the venue and symbol). After the marker the subscriber sees only quotes
// published after it, and a quote of another venue, which the marker is
// not about, stays.
func TestS27ctGapMarkerWithdrawsEveryCoalescableType(t *testing.T) {
	for _, typ := range s27ctCoalescable(t) {
		for _, form := range []string{"stream", "venue-wide", "typeless"} {
			t.Run(fmt.Sprintf("%v/%s", typ, form), func(t *testing.T) {
				ctx := context.Background()
				pools := schema.NewPools(nil)
				d := dispatch.New(pools.Events, nil)
				h, sub := s27ctHold(t, d, pools)
				interval := ""
				if typ == schema.EventKlineLive {
					interval = "1m"
				}
				for seq := uint64(1); seq <= 5; seq++ {
					require.NoError(t, d.Publish(ctx, s27ctQuote(t, pools, typ, schema.VenueBybit, "BTC-USDT", interval, seq)))
					require.NoError(t, d.Publish(ctx, s27ctQuote(t, pools, typ, schema.VenueKraken, "BTC-USDT", interval, seq)))
				}
				gap := s27ctEvent(t, pools, schema.EventGap, schema.VenueBybit, "BTC-USDT", 0)
				gap.UseControl().GapType = typ
				switch form {
				case "venue-wide":
					gap.Symbol = ""
				case "typeless":
					gap.UseControl().GapType = schema.EventUnknown
				}
				wantGap := s27ctKey(gap)
				require.NoError(t, d.Publish(ctx, gap))
				require.NoError(t, d.Publish(ctx, s27ctQuote(t, pools, typ, schema.VenueBybit, "BTC-USDT", interval, 6)))
				got := h.wait(t, sub)
				fresh := s27ctKey(s27ctQuoteView(typ, schema.VenueBybit, "BTC-USDT", interval, 6))
				other := s27ctKey(s27ctQuoteView(typ, schema.VenueKraken, "BTC-USDT", interval, 5))
				require.NotEmpty(t, got)
				got = got[1:]
				assert.ElementsMatch(t, []string{wantGap, fresh, other}, got, "the marker, the fresh quote, and the other venue's latest; no stale quote")
				gi, fi := -1, -1
				for i, g := range got {
					switch g {
					case wantGap:
						gi = i
					case fresh:
						fi = i
					}
				}
				assert.Less(t, gi, fi, "the marker before the quote published after it: %v", got)
				assert.GreaterOrEqual(t, sub.Stats().Coalesced, uint64(4+4+1), "the replaced quotes and the one the marker withdrew are counted")
				require.NoError(t, d.Close(ctx))
				require.NoError(t, pools.Shutdown(ctx))
			})
		}
	}
}
