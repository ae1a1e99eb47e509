package natsbridge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS34leadWindowlessMarkerDropsEveryWindow: a gap marker about a
// symbol's tickers that names no window and states none ("your tickers
// are stale", as dispatch reads it since s34rvwin) supersedes the quotes
// the Consumer keeps for the pool of every window of the symbol, not the
// 24 h ticker's alone: the 1 h ticker kept from before it was delivered
// after it, looking like the state after the loss.
func TestS34leadWindowlessMarkerDropsEveryWindow(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 256)
	_, err = far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTicker}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, nil)
	require.NoError(t, err)
	far.hold(0)

	ingest.publish(t, s34wireTicker("", 1))
	ingest.publish(t, s34wireTicker("1h", 2))
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both shelved")
	ingest.publish(t, s34wireMarker(""))
	eventually(t, func() bool { return cons.Stats().Received == 3 }, "the marker received")
	far.release()

	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type)
	require.Empty(t, g.Ticker.Window)
	ingest.publish(t, s34wireTicker("1h", 9))
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventTicker, ev.Type)
	require.Equal(t, "1h", ev.Ticker.Window)
	require.Equal(t, schema.NewDecimal(9, 1), ev.Ticker.Last, "the 1 h ticker of before the marker delivered after it")
	ingest.publish(t, s34wireTicker("", 5))
	ev = next(t, got, anyEvent)
	require.Empty(t, ev.Ticker.Window)
	require.Equal(t, schema.NewDecimal(5, 1), ev.Ticker.Last, "the 24 h ticker of before the marker delivered after it")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}
