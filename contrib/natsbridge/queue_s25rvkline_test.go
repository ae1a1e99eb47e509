package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS25rvQueueOverflowKeepsLatestPerKlineInterval: a subject carries a
// symbol's live klines of every interval ("….kline_live"), each interval
// a stream of its own (dispatch coalesces them apart). The newest dropped
// quote kept per subject kept only the last interval's, and a newer
// message of another interval that got into the queue threw it away: the
// other intervals were left with an older kline as their state, silently
// stale, until their next update. Latest wins per stream.
func TestS25rvQueueOverflowKeepsLatestPerKlineInterval(t *testing.T) {
	far, got, cons, raw, taken := overflowing(t)
	kline := func(interval string, px int64) *schema.CanonicalEvent {
		ev := tradeOf("BTC-USDT", 1)
		ev.Type, ev.Trade = schema.EventKlineLive, schema.Trade{}
		ev.UseKline().Interval, ev.UseKline().Close = interval, schema.NewDecimal(px, 1)
		return ev
	}
	cons.mu.Lock() // the consumer's goroutine stalls: its queue fills
	const n = 20
	var sent uint64
	send := func(ev *schema.CanonicalEvent) {
		raw.send(ev, 1)
		sent++
		eventually(t, func() bool { return taken() >= sent-1 }, "the queue took the message")
	}
	for px := int64(1); px <= n; px++ {
		send(kline("1m", px))
	}
	for px := int64(1); px <= n; px++ {
		send(kline("1h", px))
	}
	require.Positive(t, cons.q.droppedCount(), "the queue never overflowed: the test tests nothing")
	cons.mu.Unlock()
	last := map[string]schema.Decimal{}
	for last["1m"] != schema.NewDecimal(n, 1) || last["1h"] != schema.NewDecimal(n, 1) {
		ev := next(t, got, anyMarket)
		require.Equal(t, schema.EventKlineLive, ev.Type)
		last[ev.Kline.Interval] = ev.Kline.Close
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// overflowing starts a Consumer with a queue of 4 messages, and returns the
// far node with a subscriber to Binance, the raw sender, and taken: the
// messages that reached the queue (queued or dropped there), not dropped
// by nats.go ahead of it, whose channel to the queue is as small.
func overflowing(t *testing.T) (*node, <-chan *schema.CanonicalEvent, *Consumer, rawSender, func() uint64) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{PendingMsgs: 4})
	require.NoError(t, err)
	taken := func() uint64 {
		cons.q.mu.Lock()
		defer cons.q.mu.Unlock()
		return uint64(len(cons.q.buf)-cons.q.head) + cons.q.dropped
	}
	return far, got, cons, rawSender{t, connect(t, srv.ClientURL(), nil)}, taken
}
