package merge

// Adversarial tests written apart from the implementation (reviewer R1).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// copySink keeps a copy of every merged event it is given and returns the
// pooled original at once.
type copySink struct {
	p   *pool.Pool[*schema.MergedEvent]
	got []*schema.MergedEvent
}

func (s *copySink) PublishMerged(_ context.Context, m *schema.MergedEvent) error {
	s.got = append(s.got, m.Clone())
	s.p.Put(m)
	return nil
}

// modelVenue is the reference of one venue's state in continuous mode,
// written from the package documentation.
type modelVenue struct {
	down     bool
	upAt     int64
	bid, ask string // "" when absent
	bidAt    time.Time
	askAt    time.Time
}

// Continuous mode against a model built from the documentation, over
// random sequences of quotes, every connection state in every order, gap
// markers, clock moves and Merged pool exhaustion: whenever the pool has an
// object, the latest view published equals the model's consolidated best
// bid/offer, so a venue that left never lingers and no view is lost for
// good.
func TestAdversarialContinuousModel(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueKraken}
	states := []schema.ConnState{schema.ConnUnknown, schema.ConnConnecting, schema.ConnConnected, schema.ConnDisconnected,
		schema.ConnReconnecting, schema.ConnRotating, schema.ConnClosed, schema.ConnState(99)}
	const staleness = 50 * time.Millisecond
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 1919))
		mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		sink := &copySink{p: mp}
		clk := &clock{t: t0}
		m, err := New(&Options{Symbol: "BTC-USDT", Venues: venues, Mode: Continuous, Sink: sink, Merged: mp, Now: clk.now, Staleness: staleness})
		require.NoError(t, err)
		ctx := context.Background()
		model := make([]modelVenue, len(venues))
		var held []*schema.MergedEvent
		// Receive times follow the Merger's clock, as wsclient's do.
		ingest := t0.UnixNano()
		now := t0
		for step := range 400 {
			ingest = max(ingest+1, now.UnixNano())
			vi := rng.IntN(len(venues))
			v, mv := venues[vi], &model[vi]
			what := ""
			switch k := rng.IntN(20); {
			case k < 10:
				bid := fmt.Sprintf("%d", 100+rng.IntN(5))
				ask := fmt.Sprintf("%d", 106+rng.IntN(5))
				if rng.IntN(8) == 0 {
					bid = "0" // no bid
				}
				ev := bboAt(v, bid, ask, ingest)
				if mv.upAt != 0 && rng.IntN(6) == 0 {
					ev.IngestTS = mv.upAt - 1 // queued from before the reconnection
				}
				what = fmt.Sprintf("bbo %s %s/%s in=%d", v, bid, ask, ev.IngestTS)
				refused := mv.down || (mv.upAt != 0 && ev.IngestTS != 0 && ev.IngestTS < mv.upAt)
				if !refused {
					mv.bid, mv.ask, mv.bidAt, mv.askAt = bid, ask, now, now
					if bid == "0" {
						mv.bid = ""
					}
				}
				require.NoError(t, m.Add(ctx, ev))
			case k < 15:
				st := states[rng.IntN(len(states))]
				what = fmt.Sprintf("state %s %v", v, st)
				if st == schema.ConnConnected {
					mv.down, mv.upAt = false, ingest
				} else {
					mv.down, mv.bid, mv.ask = true, "", ""
				}
				require.NoError(t, m.Add(ctx, connState(v, st, ingest)))
			case k < 17:
				typ := []schema.EventType{schema.EventBookUpdate, schema.EventBBO, schema.EventTrade}[rng.IntN(3)]
				sym := []string{"BTC-USDT", ""}[rng.IntN(2)]
				what = fmt.Sprintf("gap %s %q %v", v, sym, typ)
				if sym == "" || typ != schema.EventTrade {
					mv.bid, mv.ask = "", ""
				}
				require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: v, Symbol: sym, Type: schema.EventGap,
					Control: &schema.Control{Kind: schema.ControlGap, GapType: typ}}))
			case k < 19:
				now = now.Add(time.Duration(rng.IntN(40)) * time.Millisecond)
				clk.set(now)
				what = "tick"
				require.NoError(t, m.Tick(ctx))
			default:
				// Exhaust the pool, or give it back.
				if len(held) == 0 {
					for {
						o, err := mp.TryGet()
						if err != nil {
							break
						}
						held = append(held, o)
					}
					what = "exhaust"
				} else {
					for _, o := range held {
						mp.Put(o)
					}
					held = held[:0]
					what = "refill"
					require.NoError(t, m.Tick(ctx))
				}
			}
			if len(held) > 0 {
				continue // nothing can be published; checked once refilled
			}
			// Expire in the model as the merger does (on the merger's clock).
			for i := range model {
				if model[i].bid != "" && now.Sub(model[i].bidAt) >= staleness {
					model[i].bid = ""
				}
				if model[i].ask != "" && now.Sub(model[i].askAt) >= staleness {
					model[i].ask = ""
				}
			}
			wantBid, wantAsk := "", ""
			var wantBidV, wantAskV schema.Venue
			for i, mv := range model {
				if mv.bid != "" && (wantBid == "" || mv.bid > wantBid) {
					wantBid, wantBidV = mv.bid, venues[i]
				}
				if mv.ask != "" && (wantAsk == "" || mv.ask < wantAsk) {
					wantAsk, wantAskV = mv.ask, venues[i]
				}
			}
			if len(sink.got) == 0 {
				require.True(t, wantBid == "" && wantAsk == "", "seed %d step %d (%s): nothing published, model has %s/%s", seed, step, what, wantBid, wantAsk)
				continue
			}
			last := sink.got[len(sink.got)-1]
			require.NoError(t, last.Validate())
			ctxMsg := fmt.Sprintf("seed %d step %d (%s)", seed, step, what)
			if wantBid == "" {
				require.True(t, last.BestBid.IsZero(), "%s: bid %v from %s lingers", ctxMsg, last.BestBid, last.BestBidVenue)
			} else {
				require.Equal(t, wantBid, last.BestBid.String(), ctxMsg)
				require.Equal(t, wantBidV, last.BestBidVenue, ctxMsg)
			}
			if wantAsk == "" {
				require.True(t, last.BestAsk.IsZero(), "%s: ask %v from %s lingers", ctxMsg, last.BestAsk, last.BestAskVenue)
			} else {
				require.Equal(t, wantAsk, last.BestAsk.String(), ctxMsg)
				require.Equal(t, wantAskV, last.BestAskVenue, ctxMsg)
			}
		}
		for _, o := range held {
			mp.Put(o)
		}
		require.NoError(t, mp.Shutdown(ctx))
	}
}

// Windows under Merged pool pressure, with out-of-order, duplicate and
// boundary-time fragments and closes by time, count, Tick and Flush: every
// window published holds exactly its range, windows never overlap, every
// closed window is published or counted lost, and every fragment is
// published at most once.
func TestAdversarialWindowsUnderPoolPressure(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX}
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 77))
		mp := pool.New("merged", 1, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		sink := &copySink{p: mp}
		clk := &clock{t: t0}
		window := time.Duration(1+rng.IntN(20)) * time.Millisecond
		m, err := New(&Options{Symbol: "BTC-USDT", Venues: venues, Mode: Windowed, Sink: sink, Merged: mp, Now: clk.now,
			Window: window, MaxEvents: 1 + rng.IntN(6)})
		require.NoError(t, err)
		ctx := context.Background()
		var held *schema.MergedEvent
		at := time.Duration(0)
		var prev *schema.CanonicalEvent
		for i := range 500 {
			var ev *schema.CanonicalEvent
			switch k := rng.IntN(12); {
			case k == 0 && prev != nil:
				c := *prev // a duplicate: same venue, sequence and time
				ev = &c
			case k == 1:
				// Exactly on a window boundary.
				at = at.Truncate(window) + window
				fallthrough
			default:
				switch j := rng.IntN(10); {
				case j < 5:
					at += time.Duration(rng.IntN(2000)) * time.Microsecond
				case j < 7:
					at -= time.Duration(rng.IntN(4000)) * time.Microsecond
				}
				ev = trade(venues[rng.IntN(len(venues))], at, "1")
				ev.SeqProvider = uint64(i + 1)
			}
			prev = ev
			require.NoError(t, m.Add(ctx, ev))
			switch rng.IntN(30) {
			case 0:
				clk.set(t0.Add(at + time.Duration(rng.IntN(30))*time.Millisecond))
				require.NoError(t, m.Tick(ctx))
			case 1:
				// With the pool's one object held, the window Flush
				// closes waits for it, and Flush says so (S39rvci).
				err := m.Flush(ctx)
				if held == nil || err != nil {
					require.NoError(t, ignoreWaiting(err, held != nil))
				}
			case 2, 3:
				if held == nil {
					held, _ = mp.TryGet()
				} else {
					mp.Put(held)
					held = nil
				}
			}
		}
		if held != nil {
			mp.Put(held)
		}
		clk.set(t0.Add(at + time.Hour))
		require.NoError(t, m.Flush(ctx))
		require.NoError(t, m.Flush(ctx), "a second Flush finds nothing open")

		st := m.Stats()
		require.Equal(t, uint64(len(sink.got)), st.Published, "seed %d", seed)
		require.Equal(t, st.Windows, st.Published+st.WindowsLost, "seed %d: a closed window neither published nor counted lost", seed)
		var prevClose int64
		var prevID uint64
		for _, w := range sink.got {
			require.NoError(t, w.Validate(), "seed %d", seed)
			require.Less(t, w.WindowOpen, w.WindowClose, "seed %d", seed)
			require.GreaterOrEqual(t, w.WindowOpen, prevClose, "seed %d: windows overlap", seed)
			require.Greater(t, w.MergeID, prevID, "seed %d", seed)
			prevClose, prevID = w.WindowClose, w.MergeID
			for _, f := range w.Fragments {
				require.GreaterOrEqual(t, f.ExchangeTS, w.WindowOpen, "seed %d", seed)
				require.Less(t, f.ExchangeTS, w.WindowClose, "seed %d", seed)
			}
		}
		require.NoError(t, mp.Shutdown(ctx))
	}
}

// A duplicate of a fragment the open window holds (same venue and
// sequence, as a rotation's overlap repeats a trade, perhaps with another
// receive time) is not taken twice; fragments without a sequence are all
// kept; the same sequence from another venue is another trade.
func TestAdversarialWindowDuplicates(t *testing.T) {
	t.Parallel()
	mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	sink := &copySink{p: mp}
	clk := &clock{t: t0}
	m, err := New(&Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode: Windowed, Sink: sink, Merged: mp, Now: clk.now, Window: time.Second})
	require.NoError(t, err)
	ctx := context.Background()
	add := func(v schema.Venue, at time.Duration, seq uint64, ingest int64) {
		ev := trade(v, at, "1")
		ev.SeqProvider, ev.IngestTS = seq, ingest
		require.NoError(t, m.Add(ctx, ev))
	}
	add(schema.VenueBinance, 0, 7, 1)
	add(schema.VenueBinance, 0, 7, 2) // the overlap's repeat, received later
	add(schema.VenueOKX, 10*time.Millisecond, 7, 3)
	add(schema.VenueOKX, 20*time.Millisecond, 0, 4)
	add(schema.VenueOKX, 20*time.Millisecond, 0, 5)
	add(schema.VenueBinance, 30*time.Millisecond, 7, 6) // again, later in the window
	require.NoError(t, m.Flush(ctx))
	require.Len(t, sink.got, 1)
	require.Len(t, sink.got[0].Fragments, 4)
	st := m.Stats()
	require.Equal(t, uint64(2), st.Duplicates)
	require.Equal(t, uint64(4), st.Fragments)
	require.NoError(t, mp.Shutdown(ctx))
}
