package contracttest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Contract 3, "not on a full pool" (DESIGN.md; normalize ErrDropped:
// market data is not waited for), and contract 4's "never silently": with
// every pooled event checked out elsewhere, a trade is dropped, counted and
// announced, while the execution report behind it waits for an event and
// is delivered once one comes back.
func TestS45ctExecReportWaitsOutFullPool(t *testing.T) {
	p, conn := startPipeline(t, nil)
	var rec recorder
	sub, err := p.disp.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: rec.add})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	send(t, conn, trade(t, 1, "1.0", "BTCUSDT"))
	require.Eventually(t, func() bool { return len(rec.events()) == 1 }, waitFor, time.Millisecond)

	var held []*schema.CanonicalEvent
	for {
		ev, err := p.pools.Events.TryGet()
		if errors.Is(err, pool.ErrExhausted) {
			break
		}
		require.NoError(t, err)
		held = append(held, ev)
	}
	giveBack := func() {
		for _, ev := range held {
			p.pools.Events.Put(ev)
		}
		held = nil
	}
	defer giveBack()

	waits := p.pools.Events.Stats().Waits
	send(t, conn, trade(t, 2, "1.0", "BTCUSDT"), fill(t, 1000), trade(t, 3, "1.0", "BTCUSDT"))
	require.Eventually(t, func() bool { return p.pools.Events.Stats().Waits > waits }, waitFor, time.Millisecond,
		"the execution report did not wait for an event")
	assert.Equal(t, uint64(1), p.parser.Stats().Dropped, "the trade, market data, is not waited for")
	giveBack()

	require.Eventually(t, func() bool {
		evs := rec.events()
		return len(evs) > 0 && evs[len(evs)-1].Type == schema.EventTrade && evs[len(evs)-1].Trade.ID.Equal("3")
	}, waitFor, time.Millisecond, "trade 3 never arrived")
	var types []schema.EventType
	for _, ev := range rec.events()[1:] {
		types = append(types, ev.Type)
		if ev.Type == schema.EventGap {
			assert.Equal(t, schema.EventTrade, ev.GapType())
		}
	}
	assert.Contains(t, types, schema.EventExecReport, "the execution report was lost to the full pool")
	assert.Contains(t, types, schema.EventGap, "trade 2 was dropped silently: %v", types)
	assert.Equal(t, schema.EventTrade, types[len(types)-1])
}

// Contract 6 for an oversized message (DESIGN.md: "oversized frames: a
// typed error, a counter, the message dropped, the connection and every
// other event unharmed"; wsclient Options.ReadLimit, OversizedError): the
// events before and after it delivered on the one connection.
func TestS45ctOversizedMessageTyped(t *testing.T) {
	const limit = 1024
	p, conn := startPipeline(t, func(o *wsclient.Options) { o.ReadLimit = limit })
	var rec recorder
	sub, err := p.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}},
		&dispatch.SubscribeOptions{Handler: rec.add})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	big := withMember(t, trade(t, 2, "1.0", "BTCUSDT"), "s", `"`+string(make([]byte, limit))+`"`)
	send(t, conn, trade(t, 1, "1.0", "BTCUSDT"), big, trade(t, 3, "1.0", "BTCUSDT"))
	over := p.waitEvent(t, "the oversized message", func(e wsclient.Event) bool { return e.Reason == wsclient.ReasonOversized })
	assert.Equal(t, schema.ConnConnected, over.State, "the connection kept")
	oe, ok := errorsAs[*wsclient.OversizedError](over.Err)
	require.True(t, ok, "%v", over.Err)
	assert.Equal(t, int64(limit), oe.Limit)
	assert.Equal(t, int64(len(big)), oe.Size)

	require.Eventually(t, func() bool { return len(rec.events()) == 2 }, waitFor, time.Millisecond)
	evs := rec.events()
	assert.True(t, evs[0].Trade.ID.Equal("1"))
	assert.True(t, evs[1].Trade.ID.Equal("3"))
	cs := p.client.Stats()
	assert.Equal(t, uint64(1), cs.Oversized)
	assert.Zero(t, cs.TotalReconnects(), "the connection kept")
	assert.Zero(t, p.parser.Stats().Errors)
}

// Bounded memory without a silent stall (README wsclient: "a frame pool
// shared past its size reported, not a silent stall"; wsclient
// ErrFramesExhausted): a reader that finds its frame pool exhausted waits,
// reading nothing, and says so (ReasonPoolExhausted, Stats.PoolWaits); once
// a frame comes back it reads on and nothing is lost.
func TestS45ctExhaustedFramePoolReported(t *testing.T) {
	frames := pool.New("frames", 1, func() *schema.WsFrame {
		return &schema.WsFrame{Data: make([]byte, 0, schema.DefaultFrameBuffer)}
	}, nil)
	held, err := frames.TryGet()
	require.NoError(t, err)
	defer func() {
		if held != nil {
			frames.Put(held)
		}
	}()
	// Registered first, so run last: after the pipeline's cleanup has
	// closed the client.
	t.Cleanup(func() { require.NoError(t, frames.Shutdown(context.Background()), "a frame never came back") })
	p, conn := startPipeline(t, func(o *wsclient.Options) { o.Frames = frames })
	var rec recorder
	sub, err := p.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}},
		&dispatch.SubscribeOptions{Handler: rec.add})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	send(t, conn, trade(t, 1, "1.0", "BTCUSDT"))
	var reported wsclient.Event
	require.Eventually(t, func() bool {
		select {
		case e := <-p.events:
			reported = e
			return e.Reason == wsclient.ReasonPoolExhausted
		default:
			return false
		}
	}, waitFor, time.Millisecond, "the reader's wait for a frame was never reported")
	assert.ErrorIs(t, reported.Err, wsclient.ErrFramesExhausted)
	assert.ErrorIs(t, reported.Err, pool.ErrExhausted)
	assert.Equal(t, uint64(1), p.client.Stats().PoolWaits)
	assert.Empty(t, rec.events(), "read without a frame")

	frames.Put(held)
	held = nil
	require.Eventually(t, func() bool { return len(rec.events()) == 1 }, waitFor, time.Millisecond,
		"the trade sent while the reader waited never arrived")
	assert.Zero(t, p.client.Stats().TotalReconnects())
}
