package natsbridge

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// fullTickerMarker is a gap marker about BTC-USDT's full ticker only: it
// names the ticker's window, as a subscriber queue's marker about a full
// ticker dropped past its bound does (dispatch copies the window into
// it), relayed by a Publisher subscribed to the ingest dispatcher.
func fullTickerMarker() *schema.CanonicalEvent {
	g := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap}
	g.UseControl().Kind, g.UseControl().GapType, g.UseControl().GapSource = schema.ControlGap, schema.EventTicker, schema.GapSubscriberQueue
	g.UseTicker().WindowClose = 1672515782136e6
	return g
}

// TestS32QueueWindowedMarkerKeepsTheMiniTicker: a gap marker that names a
// ticker's window reports on the full ticker only (dispatch's rule, see
// its windowed). The Consumer's queue forgot the kept quotes of both
// kinds for it: the mini ticker's newest, fresh and not covered by the
// marker, was lost, the far side left on an older one until the next.
func TestS32QueueWindowedMarkerKeepsTheMiniTicker(t *testing.T) {
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventTicker)
	msg := func(ev *schema.CanonicalEvent) *nats.Msg {
		return &nats.Msg{Subject: subj, Data: wire.Append(nil, ev, 0)}
	}
	filler := &nats.Msg{Subject: Subject(DefaultPrefix, schema.VenueBinance, "ETH-USDT", schema.EventTrade), Data: wire.Append(nil, tradeOf("ETH-USDT", 1), 1)}
	q := newMsgQueue(2, 1<<20)
	q.push(filler)
	q.push(filler)
	q.push(msg(binanceTicker(true, 1)))  // dropped: kept
	q.push(msg(binanceTicker(false, 2))) // dropped: kept beside it
	require.Same(t, filler, q.pop())
	require.Same(t, filler, q.pop())
	q.push(msg(fullTickerMarker())) // queued: it supersedes the full ticker kept, not the mini one
	m := q.pop()
	require.NotNil(t, m)
	typ, _ := wire.Type(m.Data)
	require.Equal(t, schema.EventGap, typ)
	m = q.pop()
	require.NotNil(t, m, "the mini ticker's newest quote lost to a marker about the full ticker")
	var ev schema.CanonicalEvent
	_, err := new(wire.Decoder).Decode(m.Data, &ev)
	require.NoError(t, err)
	require.Equal(t, schema.EventTicker, ev.Type)
	require.Zero(t, ev.Ticker.WindowClose, "the full ticker of before the marker handed out after it")
	require.Equal(t, schema.NewDecimal(2, 1), ev.Ticker.Last)
	require.Nil(t, q.pop())
}

// TestS32WindowedMarkerKeepsTheMiniTickerWaitingForThePool: a gap marker
// about the full ticker overtakes the updates waiting for an exhausted
// event pool. The full ticker's is from before the loss it announces and
// is dropped; the mini ticker's is not covered and must be delivered. Both
// were dropped.
func TestS32WindowedMarkerKeepsTheMiniTickerWaitingForThePool(t *testing.T) {
	far, got, cons, raw := starvedConsumer(t, schema.EventTicker)
	raw.send(binanceTicker(true, 1), 0)
	raw.send(binanceTicker(false, 2), 0)
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both shelved")
	raw.send(fullTickerMarker(), 0)
	eventually(t, func() bool { return cons.Stats().Received == 3 }, "the marker received")
	far.release()
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type)
	require.NotZero(t, g.Ticker.WindowClose)
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventTicker, ev.Type)
	require.Zero(t, ev.Ticker.WindowClose, "the full ticker of before the marker delivered after it")
	require.Equal(t, schema.NewDecimal(2, 1), ev.Ticker.Last, "the mini ticker's newest quote lost to a marker about the full ticker")
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}
