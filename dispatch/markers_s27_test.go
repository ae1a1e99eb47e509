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
	for ev := range s.C() {
		got++
		if ev.Type == schema.EventGap {
			markers++
		}
		if got == 1+1024 {
			s.mu.Lock()
			scanned := s.scanned
			s.mu.Unlock()
			require.LessOrEqual(t, scanned, uint64(4*1024), "each delivery looked at every waiting marker")
		}
		if s.Stats().Depth == 0 {
			break
		}
	}
	require.GreaterOrEqual(t, markers, streams-1, "a marker was lost")
	require.NoError(t, d.Unsubscribe(s))
	closeDispatcher(t, d)
}
