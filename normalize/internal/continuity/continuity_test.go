package continuity

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	cont = Result{}
	rep  = Result{Verdict: Repeat}
	rst  = Result{Verdict: Restart}
)

func gapOf(first, last uint64) Result {
	return Result{Verdict: Gap, MissingFirst: first, MissingLast: last}
}

// stateCase: a stream at a snapshot (snap) or after a history of accepted
// messages, then one message.
type stateCase struct {
	name    string
	rule    Rule
	snap    uint64 // Snapshot(snap) first when non-zero
	history []IDs  // accepted after the snapshot
	id      IDs
	want    Result
}

func TestCheck(t *testing.T) {
	t.Parallel()
	cases := []stateCase{
		// Binance spot: U/u against lastUpdateId 1000, then U = u + 1.
		{name: "binance spot/join straddles L+1", rule: Binance, snap: 1000, id: IDs{First: 995, Last: 1003}, want: cont},
		{name: "binance spot/join starts at L+1", rule: Binance, snap: 1000, id: IDs{First: 1001, Last: 1003}, want: cont},
		{name: "binance spot/u = L is covered", rule: Binance, snap: 1000, id: IDs{First: 990, Last: 1000}, want: rep},
		{name: "binance spot/u < L is covered", rule: Binance, snap: 1000, id: IDs{First: 990, Last: 999}, want: rep},
		{name: "binance spot/snapshot older than stream", rule: Binance, snap: 1000, id: IDs{First: 1005, Last: 1009}, want: gapOf(1001, 1004)},
		{name: "binance spot/continuous", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003}}, id: IDs{First: 1004, Last: 1010}, want: cont},
		{name: "binance spot/repeat of the last", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003}, {First: 1004, Last: 1010}}, id: IDs{First: 1004, Last: 1010}, want: rep},
		{name: "binance spot/repeat of an older one", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003}, {First: 1004, Last: 1010}}, id: IDs{First: 995, Last: 1003}, want: rep},
		{name: "binance spot/gap", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003}}, id: IDs{First: 1009, Last: 1012}, want: gapOf(1004, 1008)},
		// Binance ids never start again; its docs ignore any u below the local id.
		{name: "binance spot/older than the snapshot after join is a repeat", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003}}, id: IDs{First: 10, Last: 12}, want: rep},
		{name: "binance spot/no ids", rule: Binance, snap: 1000, id: IDs{}, want: cont},
		{name: "binance spot/unknown stream", rule: Binance, id: IDs{First: 5, Last: 9}, want: cont},

		// Binance USDⓈ-M / COIN-M: U ≤ L ≤ u, then pu = previous u.
		{name: "binance futures/join straddles L", rule: Binance, snap: 1000, id: IDs{First: 995, Last: 1003, Prev: 990}, want: cont},
		{name: "binance futures/join on u = L", rule: Binance, snap: 1000, id: IDs{First: 995, Last: 1000, Prev: 990}, want: cont},
		{name: "binance futures/join chained to L", rule: Binance, snap: 1000, id: IDs{First: 1004, Last: 1009, Prev: 1000}, want: cont},
		{name: "binance futures/u < L is covered", rule: Binance, snap: 1000, id: IDs{First: 990, Last: 999, Prev: 985}, want: rep},
		{name: "binance futures/snapshot older than stream", rule: Binance, snap: 1000, id: IDs{First: 1005, Last: 1009, Prev: 1003}, want: gapOf(1001, 1004)},
		{name: "binance futures/pu chains though U skips", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003, Prev: 990}}, id: IDs{First: 1009, Last: 1014, Prev: 1003}, want: cont},
		{name: "binance futures/pu mismatch", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003, Prev: 990}}, id: IDs{First: 1016, Last: 1020, Prev: 1014}, want: gapOf(1004, 1014)},
		{name: "binance futures/repeat", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003, Prev: 990}, {First: 1009, Last: 1014, Prev: 1003}}, id: IDs{First: 1009, Last: 1014, Prev: 1003}, want: rep},
		{name: "binance futures/after join, u = L is a repeat", rule: Binance, snap: 1000, history: []IDs{{First: 995, Last: 1003, Prev: 990}}, id: IDs{First: 995, Last: 1000, Prev: 990}, want: rep},

		// OKX: prevSeqId = previous seqId; keep-alive; reset.
		{name: "okx/continuous", rule: OKX, snap: 100, id: IDs{Prev: 100, Last: 107}, want: cont},
		{name: "okx/keep-alive", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}}, id: IDs{Prev: 107, Last: 107}, want: Result{KeepAlive: true}},
		{name: "okx/reset", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}}, id: IDs{Prev: 107, Last: 3}, want: Result{Renumbered: true}},
		{name: "okx/after reset", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}, {Prev: 107, Last: 3}}, id: IDs{Prev: 3, Last: 5}, want: cont},
		{name: "okx/reset repeated", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}, {Prev: 107, Last: 3}}, id: IDs{Prev: 107, Last: 3}, want: rep},
		{name: "okx/reset repeated later", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}, {Prev: 107, Last: 3}, {Prev: 3, Last: 5}}, id: IDs{Prev: 107, Last: 3}, want: rep},
		{name: "okx/repeat of the last", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}, {Prev: 107, Last: 111}}, id: IDs{Prev: 107, Last: 111}, want: rep},
		{name: "okx/repeat of an older one", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}, {Prev: 107, Last: 111}}, id: IDs{Prev: 100, Last: 107}, want: rep},
		{name: "okx/old keep-alive", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}, {Prev: 107, Last: 107}, {Prev: 107, Last: 111}}, id: IDs{Prev: 107, Last: 107}, want: rep},
		{name: "okx/gap", rule: OKX, snap: 100, history: []IDs{{Prev: 100, Last: 107}}, id: IDs{Prev: 112, Last: 115}, want: gapOf(108, 112)},
		{name: "okx/missed reset is no repeat", rule: OKX, snap: 5000, history: []IDs{{Prev: 5000, Last: 5004}}, id: IDs{Prev: 12, Last: 15}, want: gapOf(0, 0)},
		{name: "okx/no ids", rule: OKX, snap: 100, id: IDs{}, want: cont},
		{name: "okx/snapshot shape (prevSeqId -1)", rule: OKX, snap: 100, id: IDs{Last: 250}, want: cont},

		// Bybit: u = previous u + 1, u = 1 restarts.
		{name: "bybit/continuous", rule: Bybit, snap: 2876700, id: IDs{Last: 2876701}, want: cont},
		{name: "bybit/repeat", rule: Bybit, snap: 2876700, history: []IDs{{Last: 2876701}}, id: IDs{Last: 2876701}, want: rep},
		{name: "bybit/repeat of the snapshot", rule: Bybit, snap: 2876700, history: []IDs{{Last: 2876701}}, id: IDs{Last: 2876700}, want: rep},
		{name: "bybit/gap", rule: Bybit, snap: 2876700, id: IDs{Last: 2876703}, want: gapOf(2876701, 2876702)},
		{name: "bybit/restart", rule: Bybit, snap: 2876700, id: IDs{Last: 1}, want: rst},
		{name: "bybit/restart on an unknown stream", rule: Bybit, id: IDs{Last: 1}, want: rst},
		{name: "bybit/after restart", rule: Bybit, snap: 2876700, history: []IDs{{Last: 1}}, id: IDs{Last: 2}, want: cont},
		{name: "bybit/silent restart is no repeat", rule: Bybit, snap: 2876700, history: []IDs{{Last: 2876701}}, id: IDs{Last: 5}, want: gapOf(0, 0)},
		{name: "bybit/no ids", rule: Bybit, snap: 2876700, id: IDs{}, want: cont},

		// Coinbase: sequence_num + 1 per message of a connection.
		{name: "coinbase/first message", rule: Coinbase, id: IDs{Last: 0}, want: cont},
		{name: "coinbase/continuous", rule: Coinbase, history: []IDs{{Last: 0}, {Last: 1}}, id: IDs{Last: 2}, want: cont},
		{name: "coinbase/repeat", rule: Coinbase, history: []IDs{{Last: 0}, {Last: 1}}, id: IDs{Last: 1}, want: rep},
		{name: "coinbase/lost message", rule: Coinbase, history: []IDs{{Last: 0}, {Last: 1}}, id: IDs{Last: 4}, want: gapOf(2, 3)},

		// None: nothing to check.
		{name: "none", rule: None, snap: 7, id: IDs{First: 1, Last: 2, Prev: 1}, want: cont},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Stream{Rule: tc.rule}
			if tc.snap != 0 {
				s.Snapshot(tc.snap)
			}
			for _, h := range tc.history {
				r := s.Step(h)
				require.NotEqual(t, Repeat, r.Verdict, "history %v", h)
				require.NotEqual(t, Gap, r.Verdict, "history %v", h)
			}
			before := s
			require.Equal(t, tc.want, s.Check(tc.id))
			require.Equal(t, before, s, "Check changes nothing")
		})
	}
}

// The case, through Step: snapshot lastUpdateId 1000, then three
// USDⓈ-M diffs whose U skips ids but whose pu chains: all continuous,
// ending at 1020.
func TestBinanceFuturesChain(t *testing.T) {
	t.Parallel()
	s := Stream{Rule: Binance}
	s.Snapshot(1000)
	for _, id := range []IDs{{First: 995, Last: 1003, Prev: 990}, {First: 1009, Last: 1014, Prev: 1003}, {First: 1016, Last: 1020, Prev: 1014}} {
		require.Equal(t, cont, s.Step(id), "%+v", id)
	}
	require.Equal(t, uint64(1020), s.Last())
}

// Step follows the stream on past a gap and a restart, never past a
// repeat; Reset forgets.
func TestStep(t *testing.T) {
	t.Parallel()
	s := Stream{Rule: Coinbase}
	require.Equal(t, cont, s.Step(IDs{Last: 0}))
	require.Equal(t, gapOf(1, 4), s.Step(IDs{Last: 5}))
	require.Equal(t, cont, s.Step(IDs{Last: 6}))
	require.Equal(t, rep, s.Step(IDs{Last: 5}))
	require.Equal(t, uint64(6), s.Last())
	s.Reset()
	require.False(t, s.Known())
	require.Equal(t, cont, s.Step(IDs{Last: 0}), "a new connection counts from 0 again")

	b := Stream{Rule: Bybit}
	b.Snapshot(500)
	require.Equal(t, rst, b.Step(IDs{Last: 1}))
	require.Equal(t, cont, b.Step(IDs{Last: 2}))
	require.Equal(t, rst, b.Step(IDs{Last: 1}), "u = 1 once the numbering passed it: a second restart (a repeat would stall the book)")
	require.Equal(t, rst, b.Step(IDs{Last: 1}), "u = 1 while the stream is at 1: a restart again (the same data if it is the same message)")
}

// venueStream generates n messages of a clean stream after a snapshot,
// the way the rule's venue numbers them: Binance spot U = u + 1,
// derivatives with ids skipped, OKX with gaps in seqId, keep-alives and a
// reset, Bybit and Coinbase + 1.
func venueStream(rng *rand.Rand, rule Rule, futures bool, n int) (snap uint64, ids []IDs) {
	snap = 1000 + rng.Uint64N(1000)
	last := snap
	reset := false
	for i := range n {
		var id IDs
		switch rule {
		case Binance:
			first := last + 1
			if futures {
				first += rng.Uint64N(5)
				id.Prev = last
			}
			if i == 0 { // straddles the snapshot
				first = snap - rng.Uint64N(5)
				if futures {
					id.Prev = first - 1 - rng.Uint64N(3)
				}
			}
			id.First, id.Last = first, max(first, last+1)+rng.Uint64N(5)
		case OKX:
			id.Prev = last
			switch k := rng.IntN(20); {
			case k == 0:
				id.Last = last // keep-alive
			case k == 1 && i > n/2 && !reset:
				id.Last, reset = 1+rng.Uint64N(last/2), true // reset
			default:
				id.Last = last + 1 + rng.Uint64N(9)
			}
		case Bybit, Coinbase:
			id.Last = last + 1
		}
		ids = append(ids, id)
		last = id.Last
	}
	return snap, ids
}

// TestStreams checks each rule on whole generated streams: clean, every
// message is continuous; with a message already seen inserted again, it
// is a repeat and the stream carries on; with a message removed, the
// next one is a gap (OKX keep-alives excepted: losing one loses nothing).
func TestStreams(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		name    string
		rule    Rule
		futures bool
	}{{"binance spot", Binance, false}, {"binance futures", Binance, true}, {"okx", OKX, false}, {"bybit", Bybit, false}, {"coinbase", Coinbase, false}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, uint64(v.rule)))
			for range 200 {
				snap, ids := venueStream(rng, v.rule, v.futures, 40)
				start := func() *Stream {
					s := &Stream{Rule: v.rule}
					s.Snapshot(snap) // Coinbase: the connection's count so far
					return s
				}
				s := start()
				for i, id := range ids {
					require.Equal(t, Continuous, s.Step(id).Verdict, "clean message %d %+v", i, id)
				}

				// A repeat of an earlier message of the current numbering.
				k := 1 + rng.IntN(len(ids)-2)
				dup := ids[rng.IntN(k+1)]
				s = start()
				for i, id := range ids[:k+1] {
					require.Equal(t, Continuous, s.Step(id).Verdict, "message %d", i)
				}
				if v.rule == OKX && dup.Prev == dup.Last && dup.Last == s.Last() {
					require.Equal(t, Result{KeepAlive: true}, s.Check(dup), "a keep-alive at the current seqId")
				} else if s.covered(dup.Last) {
					require.Equal(t, Repeat, s.Step(dup).Verdict, "repeat %+v at %d", dup, k)
					for i, id := range ids[k+1:] {
						require.Equal(t, Continuous, s.Step(id).Verdict, "after the repeat, message %d", k+1+i)
					}
				}

				// A lost message.
				lost := 1 + rng.IntN(len(ids)-2)
				if v.rule == OKX && ids[lost].Prev == ids[lost].Last {
					continue // a keep-alive carries nothing to lose
				}
				s = start()
				for i, id := range ids[:lost] {
					require.Equal(t, Continuous, s.Step(id).Verdict, "message %d", i)
				}
				require.Equal(t, Gap, s.Check(ids[lost+1]).Verdict, "message %d after losing %d: %+v after %+v", lost+1, lost, ids[lost+1], ids[lost])
			}
		})
	}
}
