package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s42sessSeen is what a subscriber saw of an event: its type and which of
// the sections the session reads it carried.
type s42sessSeen struct {
	typ           schema.EventType
	exec, control bool
}

// TestS42sessReadersTakeEventsWithoutSections: the session reads the
// Control and Exec of events its parsers hand it whatever their type (a
// balance, an execution report, a control message or gap marker a parser
// left without its section): a section the event does not carry reads as
// zero, nothing panics, and the reader does not make the section (the
// event goes on as it came). Before s42sess, with the compact event
// (issue #15), unsubscribeAnswer, refusedReport, endedSub and
// orders.Publish read ev.Control through a nil pointer and panicked on
// the connection's reader; closeAnnounced, streamEnded, observe and
// repeats' hash made the section they only read (UseControl, UseExec).
func TestS42sessReadersTakeEventsWithoutSections(t *testing.T) {
	bare := func(v schema.Venue, typ schema.EventType) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: typ}
	}
	sectionless := func(t *testing.T, ev *schema.CanonicalEvent) {
		t.Helper()
		assert.Nil(t, ev.Control, "the reader made no Control")
		assert.Nil(t, ev.Exec, "the reader made no Exec")
	}

	t.Run("predicates", func(t *testing.T) {
		for _, v := range []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken} {
			ev := bare(v, schema.EventControl)
			assert.False(t, unsubscribeAnswer(ev), v)
			assert.False(t, closeAnnounced(ev), v)
			assert.False(t, streamEnded(ev), v)
			sectionless(t, ev)
		}
	})

	t.Run("market watch", func(t *testing.T) {
		board := newStateBoard(1, false)
		sink := &s37sink{}
		r := &marketRetry{clock: wsclient.SystemClock(), venue: schema.VenueBybit, rotate: func() {}, live: func() uint64 { return 1 }}
		defer r.stop()
		w := bookWatch{next: sink, state: func() *stateBoard { return board }, conn: func() uint64 { return 1 }, retry: r}
		for _, typ := range []schema.EventType{schema.EventControl, schema.EventGap, schema.EventConnState} {
			ev := bare(schema.VenueBybit, typ)
			require.NoError(t, w.Publish(context.Background(), ev), typ)
			sectionless(t, ev)
		}
		assert.Equal(t, 3, sink.n, "every one published")
		assert.Zero(t, r.refusals.Load(), "no refusal")
	})

	t.Run("private", func(t *testing.T) {
		p := &private{}
		gap := bare(schema.VenueCoinbase, schema.EventGap)
		assert.False(t, p.refusedReport(gap), "a marker naming no type is no refused report")
		_, ended := p.endedSub(bare(schema.VenueOKX, schema.EventControl))
		assert.False(t, ended)
		sectionless(t, gap)
	})

	t.Run("repeats", func(t *testing.T) {
		r := &repeats{clk: newEndClock()}
		t.Cleanup(r.stopNow)
		ev := bare(schema.VenueCoinbase, schema.EventExecReport)
		assert.False(t, r.check(1, ev), "outside a window")
		r.begin(1, 2)
		assert.False(t, r.check(1, ev), "in the window, first")
		other := bare(schema.VenueCoinbase, schema.EventExecReport)
		other.UseExec().VenueOrderID = schema.MustID("1")
		assert.False(t, r.check(2, other), "a report with its section is not the one without")
		sectionless(t, ev)
	})

	t.Run("reconciler", func(t *testing.T) {
		r := bareReconciler(10)
		ev := bare(schema.VenueBinance, schema.EventExecReport)
		assert.False(t, r.observe(ev), "names no order: not a duplicate")
		ack := bare(schema.VenueBinance, schema.EventOrderAck)
		r.ack(ack)
		assert.Empty(t, r.orders, "nothing followed")
		sectionless(t, ev)
		sectionless(t, ack)
	})

	t.Run("orders", func(t *testing.T) {
		pools := schema.NewPools(nil)
		s := &Session{spec: venues[schema.VenueBinance], pools: pools, disp: dispatch.New(pools.Events, nil)}
		s.cfg.Client = wsclient.Options{Clock: wsclient.SystemClock()}
		seen := make(chan s42sessSeen, 8)
		_, err := s.disp.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Name: "s42sess", Handler: func(ev *schema.CanonicalEvent) {
			seen <- s42sessSeen{typ: ev.Type, exec: ev.Exec != nil, control: ev.Control != nil}
		}})
		require.NoError(t, err)
		defer func() { require.NoError(t, s.disp.Close(context.Background())) }()
		o := &orders{s: s, pending: map[uint64]pendingOrder{}, repeats: repeats{clk: newEndClock()}, rec: newReconciler(s, &fakeBackend{rules_: binanceRefusals})}
		t.Cleanup(o.repeats.stopNow)
		types := []schema.EventType{schema.EventBalance, schema.EventExecReport, schema.EventOrderAck, schema.EventControl}
		for _, typ := range types {
			ev, err := pools.Events.Get(context.Background())
			require.NoError(t, err)
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", typ
			require.NoError(t, o.Publish(context.Background(), ev), typ)
		}
		for _, typ := range types {
			select {
			case got := <-seen:
				assert.Equal(t, s42sessSeen{typ: typ}, got, "published as it came")
			case <-time.After(10 * time.Second):
				require.FailNow(t, "not published", typ)
			}
		}
	})
}
