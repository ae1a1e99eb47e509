package dispatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// S27 review: a gap marker about one stream leaves the stream's entry in
// the coalescing line dead, for the subscriber to pass over. A subscriber
// held still while one stream alternates a quote and a venue's marker
// about it (a relay's link flapping, normalize's pool running dry and
// refilling) queues an entry per quote and never takes one: the line must
// stay bounded by the quotes queued, not grow by a dead entry per marker.
func TestS27rvDeadEntriesAreBounded(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	pub := func(seq uint64, gap bool) {
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, "S-0", schema.EventBBO, seq
		if gap {
			ev.Type = schema.EventGap
			ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBBO, GapSource: schema.GapVenue}
		}
		require.NoError(t, d.Publish(ctx, ev))
	}
	pub(1, false)
	eventually(t, func() bool { return s.Stats().Depth == 0 }, "the goroutine holds the first quote, unread")
	n := uint64(100_000)
	if raceEnabled {
		n = 10_000 // a dead entry per marker would be 10,000 entries, the bound 66
	}
	for i := range n {
		pub(2+2*i, false)
		pub(3+2*i, true)
	}
	s.mu.Lock()
	line, live := s.coal.len(), s.coalN
	s.mu.Unlock()
	require.LessOrEqual(t, line, 2*live+64, "the coalescing line grew by a dead entry per marker")
	closeDispatcher(t, d)
	for range s.C() {
	}
}
