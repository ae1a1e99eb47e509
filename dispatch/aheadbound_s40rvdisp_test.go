package dispatch

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Review s40rvdisp: the markers a wide gap marker brings ahead of it on
// the critical lane (markersAheadLocked: the subscriber's drops of the
// book streams it covers) are "not counted against its bound" — they are
// the markers of ordered streams a slow subscriber already had waiting,
// not critical events — yet the lane's length, theirs included, was what
// the bound was held to: a subscriber of more books than CriticalBound
// whose queue lost diffs of each had the wide marker itself, and every
// execution report after it until they were read, counted in
// Stats.Overflowed, and OnCriticalOverflow called, on which a host
// Unsubscribes a stuck subscriber (Options.OnCriticalOverflow) — one that
// only lagged in market data. Here CriticalBound is 2, the queue holds
// markers of three books, and the wide marker and an execution report are
// the only critical events queued: nothing is over the bound.
func TestS40rvdispMarkersAheadAreNotOverTheCriticalBound(t *testing.T) {
	events := schema.NewPools(nil).Events
	alarms := 0
	d := New(events, &Options{OnCriticalOverflow: func(*Subscription, Stats) { alarms++ }})
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{OrderedBound: 1, CriticalBound: 2})
	require.NoError(t, err)
	ctx := context.Background()
	publish := func(set func(ev *schema.CanonicalEvent)) {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue = schema.VenueBybit
		set(ev)
		require.NoError(t, d.Publish(ctx, ev))
	}
	diff := func(symbol string, seq uint64) {
		publish(func(ev *schema.CanonicalEvent) {
			ev.Type, ev.Symbol, ev.SeqProvider = schema.EventBookUpdate, symbol, seq
		})
	}
	diff("BTCUSDT", 1) // in hand: offered on C, not read
	eventually(t, func() bool { return s.Stats().InHand == 1 }, "1 in hand")
	for i, sym := range []string{"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"} {
		diff(sym, uint64(2+i)) // a lane of 1: each drops the one before
	}
	require.Equal(t, 3, s.Stats().Markers, "the queue's markers of three books wait")
	publish(func(ev *schema.CanonicalEvent) { // the connection lost
		ev.Type = schema.EventGap
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapSource: schema.GapVenue, Reason: "connection lost"}
	})
	publish(func(ev *schema.CanonicalEvent) {
		ev.Type, ev.Symbol = schema.EventExecReport, "BTCUSDT"
	})
	st := s.Stats()
	require.Equal(t, 5, st.Critical, "three markers ahead, the venue's, the report: %+v", st)
	require.Zero(t, st.Overflowed, "two critical events over a bound of 2: %+v", st)
	require.Zero(t, alarms, "OnCriticalOverflow called for markers of ordered streams")

	got := closeAndRead(t, d, s, func(ev *schema.CanonicalEvent) string { return ev.Type.String() + " " + ev.Symbol })
	require.Equal(t, []string{"book_update BTCUSDT", "gap BTCUSDT", "gap ETHUSDT", "gap SOLUSDT", "gap ", "exec_report BTCUSDT"}, got)
	st = s.Stats()
	require.Zero(t, st.Overflowed, "%+v", st)
}

// Review s40rvdisp: markers brought ahead of a wide marker are on the
// critical lane, out of reach of the later drops of their streams, which
// before merged into the one marker waiting per stream (at most gapBound
// of them): a subscriber held still while its venue's connection flaps
// queued a marker per book stream per wide marker — 100 books and 50
// reconnections queued 4,849 critical events where 150 did, none of them
// over CriticalBound. A stream's later drops now merge into its marker
// still ahead on the lane (its count adds theirs, counted as coalesced):
// nothing of the stream was delivered since (the lane goes first), and
// the book events between the two wide markers were dropped by the
// second, so the host, resyncing after it, is told the same.
func TestS40rvdispMarkersAheadStayOnePerStream(t *testing.T) {
	events := schema.NewPools(nil).Events
	d := New(events, nil)
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{OrderedBound: 4})
	require.NoError(t, err)
	ctx := context.Background()
	publish := func(set func(ev *schema.CanonicalEvent)) {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue = schema.VenueBybit
		set(ev)
		require.NoError(t, d.Publish(ctx, ev))
	}
	const books, flaps = 100, 50
	seq := uint64(0)
	for range flaps {
		for i := range books {
			seq++
			publish(func(ev *schema.CanonicalEvent) {
				ev.Type, ev.Symbol, ev.SeqProvider = schema.EventBookUpdate, "S"+strconv.Itoa(i), seq
			})
		}
		publish(func(ev *schema.CanonicalEvent) { // the connection lost
			ev.Type = schema.EventGap
			ev.Control = &schema.Control{Kind: schema.ControlGap, GapSource: schema.GapVenue, Reason: "connection lost"}
		})
	}
	st := s.Stats()
	require.LessOrEqual(t, st.Critical, flaps+books, "a marker per book per wide marker: %+v", st)
	lost := map[string]uint64{}
	got := closeAndRead(t, d, s, func(ev *schema.CanonicalEvent) string {
		if ev.Type == schema.EventGap && ev.Symbol != "" {
			lost[ev.Symbol] += ev.Control.GapCount
		}
		return ""
	})
	require.NotEmpty(t, got)
	var total uint64
	for _, n := range lost {
		total += n
	}
	st = s.Stats()
	require.Equal(t, st.Dropped, total, "every drop told, once: %+v", st)
	require.Equal(t, seq+flaps+st.Gaps, st.Delivered+st.Dropped+st.Coalesced, "every event in one place: %+v", st)
}
