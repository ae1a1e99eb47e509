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
	b := newWindowBridge(t)
	ingest, got, cons := b.ingest, b.got, b.cons

	ingest.publish(t, s34wireTicker("", 1))
	ingest.publish(t, s34wireTicker("1h", 2))
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both shelved")
	ingest.publish(t, s34wireMarker(""))
	eventually(t, func() bool { return cons.Stats().Received == 3 }, "the marker received")
	b.far.release()

	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type)
	require.Empty(t, g.TickerWindow())
	ingest.publish(t, s34wireTicker("1h", 9))
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventTicker, ev.Type)
	require.Equal(t, "1h", ev.Ticker.Window)
	require.Equal(t, schema.NewDecimal(9, 1), ev.Ticker.Last, "the 1 h ticker of before the marker delivered after it")
	ingest.publish(t, s34wireTicker("", 5))
	ev = next(t, got, anyEvent)
	require.Empty(t, ev.Ticker.Window)
	require.Equal(t, schema.NewDecimal(5, 1), ev.Ticker.Last, "the 24 h ticker of before the marker delivered after it")

	b.close(t)
}

// windowBridge is a Publisher on an ingest node and a Consumer into a
// far node whose event pool is held (hold(0)), a subscriber to tickers
// on the far node sending what it gets to got.
type windowBridge struct {
	ingest *node
	far    *smallNode
	pub    *Publisher
	cons   *Consumer
	got    chan *schema.CanonicalEvent
}

func newWindowBridge(t *testing.T) *windowBridge {
	srv := startServer(t)
	b := &windowBridge{ingest: newNode(t), far: newSmallNode(t), got: make(chan *schema.CanonicalEvent, 256)}
	var err error
	b.pub, err = NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), b.ingest.d, nil)
	require.NoError(t, err)
	_, err = b.far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTicker}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { b.got <- ev }})
	require.NoError(t, err)
	b.cons, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), b.far.d, b.far.events, nil)
	require.NoError(t, err)
	b.far.hold(0)
	return b
}

func (b *windowBridge) close(t *testing.T) {
	require.NoError(t, b.pub.Close(closeCtx(t)))
	require.NoError(t, b.cons.Close(closeCtx(t)))
	b.ingest.close(t)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, b.far.d.Close(ctx))
}
