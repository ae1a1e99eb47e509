package natsbridge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS27IngestLinkLossMarksEveryKlineInterval: the Publisher keeps the
// coalescable streams whose quotes NATS refused while its link was down,
// and tells each once the link is back. A symbol's live klines of every
// interval are a stream each (dispatch coalesces them apart; the marker
// names its interval as the stream's events do), but they were kept per
// (venue, symbol, type): the last interval refused overwrote the others,
// and only its marker went out — the 1 m candle's lost update stayed
// silently stale on the far side while the 1 h one was announced.
func TestS27IngestLinkLossMarksEveryKlineInterval(t *testing.T) {
	ll := newLinkLoss(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Symbols: []string{"BTC-USDT"}, Types: []schema.EventType{schema.EventKlineLive}})
	price := int64(0)
	kline := func(interval string) func(ev *schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			price++
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventKlineLive
			ev.UseKline().Interval, ev.UseKline().Close, ev.Raw = interval, schema.NewDecimal(price, 1), make([]byte, 512)
		}
	}
	ll.publish(t, kline("1m"))
	require.Equal(t, schema.EventKlineLive, next(t, ll.got, anyMarket).Type)
	ll.lose(t, 64, func(i int) func(*schema.CanonicalEvent) { // 32 KiB of klines, the 1 h ones last
		if i >= 32 {
			return kline("1h")
		}
		return kline("1m")
	})
	marked := map[string]bool{}
	for !marked["1m"] || !marked["1h"] {
		ev := next(t, ll.got, anyMarket)
		if ev.Type == schema.EventGap {
			require.Equal(t, schema.EventKlineLive, ev.Control.GapType)
			marked[ev.KlineInterval()] = true
			if ev.Symbol == "" && ev.KlineInterval() == "" {
				// About every symbol and interval of the venue's live
				// klines (since s34 the one announcement of a lost link):
				// dispatch drops what each interval queued.
				marked["1m"], marked["1h"] = true, true
			}
		}
	}
	ll.close(t)
}

// starvedConsumer is a Consumer into a far node of a small event pool, all
// of it held (release gives it back), a subscriber of typ collecting what
// comes, fed raw messages.
func starvedConsumer(t *testing.T, typ schema.EventType) (*smallNode, chan *schema.CanonicalEvent, *Consumer, rawSender) {
	srv := startServer(t)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 256)
	_, err := far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{typ}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, nil)
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	far.hold(0)
	return far, got, cons, raw
}

// TestS27PoolExhaustedKeepsLatestPerKlineInterval: under an exhausted
// event pool the Consumer keeps the latest update of each coalescable
// stream and delivers it once an event is free. Kept per (venue, symbol,
// type), the 1 h candle's update replaced the 1 m one's, which was never
// delivered: the far side's 1 m candle stayed on an older update,
// silently stale. Latest wins per stream, a kline's interval included.
func TestS27PoolExhaustedKeepsLatestPerKlineInterval(t *testing.T) {
	far, got, cons, raw := starvedConsumer(t, schema.EventKlineLive)
	kline := func(interval string, px int64) *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventKlineLive}
		ev.UseKline().Interval, ev.UseKline().Close = interval, schema.NewDecimal(px, 1)
		return ev
	}
	raw.send(kline("1m", 1), 0)
	raw.send(kline("1h", 2), 0)
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both shelved")
	far.release()
	last := map[string]schema.Decimal{}
	for last["1m"] != schema.NewDecimal(1, 1) || last["1h"] != schema.NewDecimal(2, 1) {
		ev := next(t, got, anyEvent)
		last[ev.Kline.Interval] = ev.Kline.Close
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}
