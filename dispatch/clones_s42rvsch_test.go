package dispatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s42rvschFill fills a pooled event with an order gap marker (Control
// and Exec) or a ticker, its sections' values made from n.
func s42rvschFill(ev *schema.CanonicalEvent, typ schema.EventType, n int64) {
	ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, "BTC-USDT", typ, uint64(n)
	switch typ {
	case schema.EventGap:
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, Code: n, Reason: "lost"}
		ev.UseExec().Qty = schema.NewDecimal(n, 0)
	case schema.EventTicker:
		*ev.UseTicker() = schema.Ticker{Last: schema.NewDecimal(n, 0), Window: "1h"}
	}
}

// TestS42rvschClonesStayTheirSubscribers: through a real dispatcher and a
// pool of one event (each Get reuses the memory of the event published
// before), a subscriber that writes its clone's Control, Exec and Ticker
// never changes what another subscriber got, and the pooled original,
// filled again for the next publish, changes no clone; in the coalescing
// lane a ticker replaced in place while the subscriber holds the one
// delivered before leaves that one as delivered (a delivered clone is
// never written again).
func TestS42rvschClonesStayTheirSubscribers(t *testing.T) {
	p := newEventPool(1)
	d := New(p, nil)
	a := newGatedRecorder()
	b := &recorder{}
	scribbler := func(ev *schema.CanonicalEvent) { // A writes every section it got
		if ev.Control != nil {
			ev.Control.Code, ev.Control.Reason = -1, "A's"
		}
		if ev.Exec != nil {
			ev.Exec.Qty = schema.NewDecimal(-1, 0)
		}
		if ev.Ticker != nil {
			ev.Ticker.Last, ev.Ticker.Window = schema.NewDecimal(-1, 0), "A's"
		}
		a.handle(ev)
	}
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: scribbler})
	require.NoError(t, err)
	_, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: b.handle})
	require.NoError(t, err)
	pub := func(typ schema.EventType, n int64) {
		ev, err := p.TryGet() // the one event, back from the last publish
		require.NoError(t, err)
		s42rvschFill(ev, typ, n)
		require.NoError(t, d.Publish(context.Background(), ev))
	}
	pub(schema.EventGap, 1)
	held := a.waitEntered(t) // A wrote its marker's sections (Control, Exec) and holds it
	pub(schema.EventTicker, 2)
	pub(schema.EventTicker, 3) // replaces 2 in A's slot, in place
	a.gate <- struct{}{}       // A lets its marker go
	tk := a.waitEntered(t)     // and holds ticker 3
	pub(schema.EventTicker, 4) // a new clone in A's slot: tk is delivered
	pub(schema.EventTicker, 5) // replaces 4 in place
	a.open()
	closeDispatcher(t, d)

	assert.Equal(t, schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, Code: -1, Reason: "A's"}, *held.Control)
	assert.Equal(t, schema.NewDecimal(-1, 0), held.Exec.Qty)
	require.Equal(t, schema.EventTicker, tk.Type)
	assert.Equal(t, uint64(3), tk.SeqProvider, "the ticker A held was not replaced after its delivery")
	assert.Equal(t, schema.Ticker{Last: schema.NewDecimal(-1, 0), Window: "A's"}, *tk.Ticker, "A's own writes, nothing of 4 or 5")

	got := b.got() // the marker, then tickers: any replaced in B's slot before B took them are not among them
	require.GreaterOrEqual(t, len(got), 2)
	assert.Equal(t, schema.EventGap, got[0].Type)
	assert.Equal(t, uint64(5), got[len(got)-1].SeqProvider, "B got the latest ticker")
	for _, ev := range got {
		want := &schema.CanonicalEvent{}
		s42rvschFill(want, ev.Type, int64(ev.SeqProvider))
		assert.Equal(t, unheadered(want), unheadered(ev), "B's event %d: nothing of A's writes nor of later publishes", ev.SeqProvider)
	}
	ga := a.got()
	require.Len(t, ga, 3)
	assert.Equal(t, uint64(5), ga[2].SeqProvider)
	assert.NotSame(t, tk.Ticker, ga[2].Ticker, "ticker 5 in memory of its own")
}
