package dispatch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s36rvLane drives a subscription's lanes as Publish and its goroutine
// do, one step at a time and without the goroutine: push enqueues a clone
// of an event, pop takes what the goroutine would deliver next.
type s36rvLane struct {
	t *testing.T
	s *Subscription
}

func newS36rvLane(t *testing.T, ordBound, gapBound int) *s36rvLane {
	s := newSubscription(nil, 1, Filter{}, SubscribeOptions{OrderedBound: ordBound})
	s.gapBound = gapBound
	return &s36rvLane{t: t, s: s}
}

func (l *s36rvLane) push(ev *schema.CanonicalEvent) {
	cl := newClones(ev, 1)
	ok, _ := l.s.enqueue(&cl)
	require.True(l.t, ok)
}

func (l *s36rvLane) trade(v schema.Venue, sym string, typ schema.EventType, seq uint64) {
	l.push(&schema.CanonicalEvent{Venue: v, Symbol: sym, Type: typ, SeqProvider: seq})
}

func (l *s36rvLane) pop() *schema.CanonicalEvent {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	ev := l.s.popLocked()
	require.NotNil(l.t, ev)
	return ev
}

// TestS36rvWideMarkerBeforeEveryStreamItCovers: a stream whose loss went
// into the marker about every symbol of its venue and type (past
// gapBound) and that lost events again once markers had gone out, below
// the bound, got a marker of its own for the later loss: its next event
// went out after that one and before the wide marker, which still held
// its earlier loss — the subscriber was told of a part of the stream's
// loss before seeing it go on, the rest after. Failed before: B2 came
// before the wide marker.
func TestS36rvWideMarkerBeforeEveryStreamItCovers(t *testing.T) {
	t.Parallel()
	l := newS36rvLane(t, 3, 2)
	diff, trade := schema.EventBookUpdate, schema.EventTrade
	l.trade(bin, "A", diff, 1)
	l.trade(okx, "E", trade, 1)
	l.trade(bin, "B", trade, 100) // B0
	l.trade(bin, "Z", trade, 1)   // drops A1: A's marker
	l.trade(bin, "A", diff, 2)    // drops E1: E's marker, the bound reached
	l.trade(okx, "E", trade, 2)   // drops B0: into the wide marker
	l.trade(bin, "B", trade, 101) // drops Z1: into the wide marker
	// A's and E's markers go out before their streams' next events.
	for _, want := range []string{"A", "A", "E", "E"} {
		ev := l.pop()
		require.Equal(t, want, ev.Symbol, "%+v", ev)
	}
	l.trade(bin, "B", trade, 102)
	l.trade(bin, "B", trade, 103)
	l.trade(bin, "B", trade, 104) // drops B 101: below the bound again
	told := false
	for range 3 {
		ev := l.pop()
		if ev.Type == schema.EventGap {
			if ev.Symbol == "" {
				told = true
			}
			continue
		}
		require.Equal(t, "B", ev.Symbol)
		require.True(t, told, "B %d went out before the marker about every symbol that holds the loss of B 100", ev.SeqProvider)
		break
	}
}

// TestS36rvWideMarkerHasNoRange: the marker about every symbol of a venue
// and type took the sequence range of the first stream it covered and
// stretched it to the last of another's (GapFirstSeq of one symbol's
// trades, GapLastSeq of another's): a range no stream lost. Its range is
// unknown (0, 0). Failed before: 500 to 7.
func TestS36rvWideMarkerHasNoRange(t *testing.T) {
	t.Parallel()
	l := newS36rvLane(t, 1, 1)
	l.trade(bin, "A", schema.EventTrade, 1)
	l.trade(bin, "B", schema.EventTrade, 500) // drops A 1: A's marker
	l.trade(bin, "C", schema.EventTrade, 7)   // drops B 500: the wide marker
	l.trade(bin, "D", schema.EventTrade, 9)   // drops C 7: into it
	var wide *schema.CanonicalEvent
	for range 3 { // the wide marker, D 9, A's marker
		if ev := l.pop(); ev.Type == schema.EventGap && ev.Symbol == "" {
			wide = ev
		}
	}
	require.NotNil(t, wide)
	assert.Equal(t, uint64(2), wide.Control.GapCount)
	assert.Zero(t, wide.Control.GapFirstSeq, "%+v", wide.Control)
	assert.Zero(t, wide.Control.GapLastSeq, "%+v", wide.Control)
}

// TestS36rvDisplacedMarkersAreBounded: published gap markers about ever
// new ordered streams (a relay's after its link came back, a venue
// parser's for thousands of options), each displaced from the front of a
// subscriber's full ordered lane, became one waiting marker each, past
// gapBound and without end (the builder's item left). Past the bound they
// merge into the marker about every symbol of their venue and type, which
// keeps their count and source and still goes out before the next event
// of a stream it covers. Failed before: 1,999 markers waiting, bound 4.
func TestS36rvDisplacedMarkersAreBounded(t *testing.T) {
	t.Parallel()
	const bound, n = 4, 2000
	l := newS36rvLane(t, 1, bound)
	for i := range n {
		l.push(&schema.CanonicalEvent{Venue: bin, Symbol: "S-" + strconv.Itoa(i), Type: schema.EventGap, Control: &schema.Control{
			Kind: schema.ControlGap, GapType: schema.EventTrade, GapCount: 2, GapFirstSeq: 10, GapLastSeq: 11, GapSource: schema.GapVenue,
		}})
	}
	l.trade(bin, "S-100", schema.EventTrade, 12)
	st := l.s.Stats()
	require.LessOrEqual(t, st.Markers, bound+1, "%+v", st)
	in, out := balance(n+1, st)
	require.Equal(t, in, out, "%+v", st)
	var lost uint64
	told := false
	for {
		l.s.mu.Lock()
		ev := l.s.popLocked()
		l.s.mu.Unlock()
		if ev == nil {
			break
		}
		if ev.Type == schema.EventGap {
			require.Equal(t, schema.GapVenue, ev.Control.GapSource, "%+v", ev.Control)
			lost += ev.Control.GapCount
			if ev.Symbol == "" {
				told = true
				assert.Zero(t, ev.Control.GapFirstSeq, "a range about every symbol: %+v", ev.Control)
			}
			continue
		}
		require.Equal(t, "S-100", ev.Symbol)
		require.True(t, told, "S-100 went on before the marker that holds its loss")
	}
	assert.Equal(t, uint64(2*n), lost, "every published marker's count is delivered")
}
