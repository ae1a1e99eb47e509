package dispatch

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// S27: more coalescable streams than a subscription's sweep floor
// (minSlots) quoting for the first time all at once — a subscriber to
// every option of a venue, connecting — age one another before they quote
// twice, and the sweep forgets their slots. What a subscriber then sees
// must still be right: for every stream, quotes in the order published,
// the latest one last, and after a gap marker about the venue none
// published before it (the marker overtakes them on the critical lane; a
// quote from before the loss delivered after it would pass for the
// market after it). SeqProvider carries the order of publication.
func TestS27BurstOfFirstQuotesNeverStale(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	const streams = 3*minSlots + 500
	var seq uint64
	latest := map[string]uint64{} // the latest quote published per stream
	quote := func(i int) {
		ev, err := p.TryGet()
		require.NoError(t, err)
		seq++
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, "OPT-"+strconv.Itoa(i), schema.EventBBO, seq
		latest[ev.Symbol] = seq // written on this goroutine only, read after Close
		require.NoError(t, d.Publish(ctx, ev))
	}
	var markers []uint64 // the publication order of each venue marker
	marker := func() {
		ev, err := p.TryGet()
		require.NoError(t, err)
		seq++
		ev.Venue, ev.Type, ev.SeqProvider = bin, schema.EventGap, seq
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: schema.EventUnknown, GapSource: schema.GapVenue}
		require.NoError(t, d.Publish(ctx, ev))
		markers = append(markers, seq)
	}

	last := map[string]uint64{} // the latest quote delivered per stream
	var lastMarker uint64
	var wrong []string // read on the reader's goroutine, checked after it ends
	got := 0
	check := func(ev *schema.CanonicalEvent) {
		got++
		if ev.Type == schema.EventGap {
			lastMarker = ev.SeqProvider
			return
		}
		switch {
		case ev.SeqProvider <= last[ev.Symbol]:
			wrong = append(wrong, ev.Symbol+": a quote older than one delivered before it")
		case ev.SeqProvider <= lastMarker:
			wrong = append(wrong, ev.Symbol+": a quote from before the venue's gap marker, delivered after it")
		}
		last[ev.Symbol] = ev.SeqProvider
	}
	// Three rounds of each phase; two under -race (4.8 s at load 2, 5-20x
	// slower than without). Two keep every ingredient: phase 1's first
	// round queues every first quote, its second carries a venue marker
	// among the queued quotes; phase 2's first round has the sweep forget
	// the slots, with venue markers among them, and its last quotes again
	// every stream forgotten, with no marker after (one after a stream's
	// last quote drops it, rightly, and the test could not tell).
	rounds := 3
	if raceEnabled {
		rounds = 2
	}
	// Nothing read during the burst: every first quote is queued at once,
	// and later quotes replace them.
	for round := range rounds {
		for i := range streams {
			quote(i)
			if round == 1 && i == streams/2 {
				marker()
			}
		}
	}
	// Read while publishing: the subscriber keeps up, its slots empty and
	// the sweep forgets them (a slot made anew per quote, the stream
	// quoting in between others the sweep counts as new).
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range s.C() {
			check(ev)
		}
	}()
	for round := range rounds {
		for i := range streams {
			quote(i)
			if round == rounds-2 && i%4096 == 0 { // the last round has none: it ends on every stream's latest

				marker()
			}
		}
	}
	s.mu.Lock()
	forgot := s.forgot != nil
	s.mu.Unlock()
	require.True(t, forgot, "the sweep forgot no slot: the test lost its point")
	closeDispatcher(t, d)
	<-done
	require.Empty(t, wrong)
	require.Positive(t, lastMarker)
	for sym, want := range latest {
		require.Equal(t, want, last[sym], "%s: the latest quote was not the last delivered", sym)
	}
	st := s.Stats()
	t.Logf("delivered %d of %d published (%d markers), coalesced %d", got, seq, len(markers), st.Coalesced)
}
