package dispatch

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// S27: a slow subscriber of many ordered streams (the trades of every
// symbol of a venue) has a gap marker waiting per stream that lost events.
// Taking its next event must not look at every waiting marker, under the
// lock every Publish to it takes: that was O(streams) per delivery (5,000
// markers looked at for each of 1,024 deliveries here), and the publisher
// — the socket reader — waited on it.
func TestS27WaitingMarkersCostAPopO1(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{OrderedBound: 1024})
	require.NoError(t, err)
	ctx := context.Background()
	const streams = 5000
	// A marker per stream for every one of them: past maxGapStreams
	// (4,096) they would share one about every symbol, and fewer would
	// wait than this test's point needs.
	s.mu.Lock()
	s.gapBound = streams
	s.mu.Unlock()
	// The subscriber's goroutine holds the first event, unread; the lane
	// fills with one trade of each stream and drops the oldest, each
	// leaving its stream's marker waiting (due after 1,024 deliveries).
	for i := range streams + 1024 + 1 {
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, "S-"+strconv.Itoa(i), schema.EventTrade, 1
		require.NoError(t, d.Publish(ctx, ev))
	}
	require.GreaterOrEqual(t, s.Stats().Markers, streams-1)
	got, markers := 0, 0
	var scanned uint64
	closeDispatcher(t, d) // C is closed after the last event queued
	for ev := range s.C() {
		got++
		if ev.Type == schema.EventGap {
			markers++
		}
		if got == 1+1024 {
			s.mu.Lock()
			scanned = s.scanned
			s.mu.Unlock()
		}
	}
	require.LessOrEqual(t, scanned, uint64(4*1024), "each delivery looked at every waiting marker")
	require.GreaterOrEqual(t, markers, streams-1, "a marker was lost")
	require.Equal(t, uint64(markers), s.Stats().Gaps)
}

// S27: a gap marker about one coalescable stream (normalize's stale
// marker when its pool ran dry, a relay's after its link came back: one
// per stream, in bursts) drops the stream's queued quote by finding its
// slot, not by looking at every queued quote under the subscription's
// lock: a burst of markers about S streams to a subscriber with S quotes
// queued cost S² (25M here).
func TestS27StreamMarkerDiscardsInO1(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	const streams = 5000
	pub := func(sym string, typ schema.EventType, seq uint64, gap bool) {
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, sym, typ, seq
		if gap {
			ev.Type = schema.EventGap
			ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: typ, GapSource: schema.GapVenue}
		}
		require.NoError(t, d.Publish(ctx, ev))
	}
	pub("S-0", schema.EventBBO, 1, false)
	eventually(t, func() bool { return s.Stats().Depth == 0 }, "the goroutine holds the first quote, unread")
	for i := 1; i < streams; i++ {
		pub("S-"+strconv.Itoa(i), schema.EventBBO, 1, false)
	}
	for i := range streams / 2 { // markers about half the streams
		pub("S-"+strconv.Itoa(i), schema.EventBBO, 0, true)
	}
	pub("S-0", schema.EventBBO, 2, false) // a fresh quote after its marker
	s.mu.Lock()
	scanned := s.scanned
	s.mu.Unlock()
	require.LessOrEqual(t, scanned, uint64(4*streams), "each marker looked at every queued quote")
	st := s.Stats()
	require.Equal(t, streams-streams/2+1, st.Coalescing, "queued quotes: the unmarked streams' and S-0's fresh one")
	// What is delivered: the first quote (held before the markers), the
	// markers, the quotes of the streams no marker named, S-0's fresh one.
	// Close hands a channel subscription off: its goroutine offers what
	// was queued and closes C after the last event.
	closeDispatcher(t, d)
	seen := map[string][]uint64{}
	markers := 0
	for ev := range s.C() {
		if ev.Type == schema.EventGap {
			markers++
		} else {
			seen[ev.Symbol] = append(seen[ev.Symbol], ev.SeqProvider)
		}
	}
	require.Equal(t, streams/2, markers)
	for i := range streams {
		sym := "S-" + strconv.Itoa(i)
		switch {
		case i == 0:
			require.Equal(t, []uint64{1, 2}, seen[sym], sym)
		case i < streams/2:
			require.Empty(t, seen[sym], "%s: a quote from before its marker delivered after it", sym)
		default:
			require.Equal(t, []uint64{1}, seen[sym], sym)
		}
	}
}
