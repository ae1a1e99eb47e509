package continuity

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// Tests written apart from the rules' own, from each venue's documented
// rule, trying every position of each kind of fault.

// Binance spot, both editions of "How to manage a local order book
// correctly": the first event applied has U ≤ lastUpdateId+1 ≤ u, events
// with u ≤ lastUpdateId are dropped, and one with U > lastUpdateId+1 means
// the snapshot is older than the stream. Every (U, u) around L = 1000.
func TestAdversarialBinanceSpotJoin(t *testing.T) {
	t.Parallel()
	const L = 1000
	for U := uint64(990); U <= 1010; U++ {
		for u := U; u <= 1012; u++ {
			s := Stream{Rule: Binance}
			s.Snapshot(L)
			r := s.Check(IDs{First: U, Last: u})
			name := fmt.Sprintf("U=%d u=%d", U, u)
			switch {
			case u <= L:
				require.Equal(t, Repeat, r.Verdict, name)
			case U <= L+1:
				require.Equal(t, Continuous, r.Verdict, name)
			default:
				require.Equal(t, Result{Verdict: Gap, MissingFirst: L + 1, MissingLast: U - 1}, r, name)
			}
		}
	}
}

// Binance USDⓈ-M / COIN-M ("How to manage a local order book correctly",
// derivatives): drop u < lastUpdateId; the first event has U ≤ L ≤ u
// (so u = L joins); then pu = previous u.
func TestAdversarialBinanceFuturesJoin(t *testing.T) {
	t.Parallel()
	const L = 1000
	for U := uint64(990); U <= 1010; U++ {
		for u := U; u <= 1012; u++ {
			s := Stream{Rule: Binance}
			s.Snapshot(L)
			pu := U - 1 - u%3 // pu below U: ids skipped, as futures streams do
			r := s.Check(IDs{First: U, Last: u, Prev: pu})
			name := fmt.Sprintf("U=%d u=%d pu=%d", U, u, pu)
			switch {
			case u < L:
				require.Equal(t, Repeat, r.Verdict, name)
			case U <= L || pu == L:
				require.Equal(t, Continuous, r.Verdict, name)
			default:
				require.Equal(t, Gap, r.Verdict, name)
			}
		}
	}
}

// binanceStream is a clean stream around a snapshot at 1000: three diffs
// wholly before it, one straddling it, then ten after it.
func binanceStream(futures bool) []IDs {
	var ids []IDs
	last := uint64(969)
	for i := range 14 {
		first := last + 1
		if futures && i > 3 {
			first += uint64(i % 3) // U skips ids
		}
		u := first + 9
		if i == 3 {
			first, u = 996, 1005 // straddles 1000
		}
		id := IDs{First: first, Last: u}
		if futures {
			id.Prev = last
		}
		ids = append(ids, id)
		last = u
	}
	return ids
}

// Repeat at every position: after the k-th diff applied, any message
// already seen — including the ones wholly before the snapshot and the one
// straddling it — is a Repeat, and the stream carries on untouched.
func TestAdversarialBinanceRepeatEveryPosition(t *testing.T) {
	t.Parallel()
	for _, futures := range []bool{false, true} {
		ids := binanceStream(futures)
		for k := 3; k < len(ids); k++ { // ids[3] is the first applied
			for j := 0; j <= k; j++ {
				s := Stream{Rule: Binance}
				s.Snapshot(1000)
				for _, id := range ids[:3] {
					require.Equal(t, Repeat, s.Step(id).Verdict)
				}
				for i, id := range ids[3 : k+1] {
					require.Equal(t, Continuous, s.Step(id).Verdict, "futures=%v diff %d", futures, 3+i)
				}
				require.Equal(t, Repeat, s.Step(ids[j]).Verdict, "futures=%v: diff %d again after %d", futures, j, k)
				require.Equal(t, ids[k].Last, s.Last())
				if k+1 < len(ids) {
					require.Equal(t, Continuous, s.Check(ids[k+1]).Verdict, "futures=%v: the stream carries on", futures)
				}
			}
		}
	}
}

// A partial overlap: a spot diff whose U is at or below the local id but
// whose u is past it is applied (the docs only refuse U > id + 1).
func TestAdversarialBinanceSpotOverlap(t *testing.T) {
	t.Parallel()
	s := Stream{Rule: Binance}
	s.Snapshot(1000)
	require.Equal(t, cont, s.Step(IDs{First: 1001, Last: 1010}))
	require.Equal(t, cont, s.Step(IDs{First: 1005, Last: 1020}))
	require.Equal(t, uint64(1020), s.Last())
	require.Equal(t, gapOf(1021, 1021), s.Check(IDs{First: 1022, Last: 1030}))
}

// OKX ("Order book channel"): the exceptions at every position — a
// keep-alive right after the snapshot and twice in a row, a reset right
// after the snapshot and followed by a keep-alive; the snapshot's
// prevSeqId -1 (0 from the parser); a message that overlaps the snapshot
// without chaining is a gap.
func TestAdversarialOKX(t *testing.T) {
	t.Parallel()
	s := Stream{Rule: OKX}
	s.Snapshot(100)
	require.Equal(t, Result{KeepAlive: true}, s.Step(IDs{Prev: 100, Last: 100}), "keep-alive right after the snapshot")
	require.Equal(t, Result{KeepAlive: true}, s.Step(IDs{Prev: 100, Last: 100}), "and again")
	require.Equal(t, Result{Renumbered: true}, s.Step(IDs{Prev: 100, Last: 4}), "reset right after keep-alives")
	require.Equal(t, Result{KeepAlive: true}, s.Step(IDs{Prev: 4, Last: 4}), "keep-alive after the reset")
	require.Equal(t, cont, s.Step(IDs{Prev: 4, Last: 9}))
	require.Equal(t, rep, s.Step(IDs{Prev: 4, Last: 9}))
	require.Equal(t, rep, s.Step(IDs{Prev: 100, Last: 4}), "the reset again")
	require.Equal(t, Result{Renumbered: true}, s.Step(IDs{Prev: 9, Last: 2}), "a second maintenance reset")
	require.Equal(t, cont, s.Step(IDs{Prev: 2, Last: 3}))

	s.Snapshot(500)
	require.Equal(t, Gap, s.Check(IDs{Prev: 495, Last: 505}).Verdict, "overlaps the snapshot but does not chain to it")
	require.Equal(t, cont, s.Check(IDs{Last: 505}), "prevSeqId -1 (a snapshot's) is not checked")
	require.Equal(t, Gap, s.Check(IDs{Prev: 501, Last: 505}).Verdict)
}

// Bybit ("Orderbook"): u = 1 is snapshot data after a restart of the
// service, every time: a second restart must not be taken for a repeat
// of the first (which would drop every later delta).
func TestAdversarialBybitRestarts(t *testing.T) {
	t.Parallel()
	s := Stream{Rule: Bybit}
	s.Snapshot(9000)
	require.Equal(t, rst, s.Step(IDs{Last: 1}))
	require.Equal(t, rst, s.Step(IDs{Last: 1}), "the restart message again, or another restart: loaded again")
	for u := uint64(2); u <= 50; u++ {
		require.Equal(t, cont, s.Step(IDs{Last: u}))
	}
	require.Equal(t, rst, s.Step(IDs{Last: 1}), "second restart")
	require.Equal(t, cont, s.Step(IDs{Last: 2}), "deltas after the second restart apply")
	require.Equal(t, cont, s.Step(IDs{Last: 3}))
	require.Equal(t, rep, s.Step(IDs{Last: 2}))
}

// After a snapshot, OKX's and Bybit's numbering is known from the
// snapshot on: a message older than it cannot be told from one of a
// numbering started again without the message that says so, and is a
// gap (a resync), never a repeat (a possible silent stall). Binance's
// ids never start again: older is always a repeat.
func TestAdversarialOlderThanSnapshot(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		rule Rule
		old  IDs
		want Verdict
	}{
		{Bybit, IDs{Last: 4999}, Gap},
		{OKX, IDs{Prev: 4990, Last: 4995}, Gap},
		{Binance, IDs{First: 4990, Last: 4995}, Repeat},
		{Binance, IDs{First: 4990, Last: 4995, Prev: 4989}, Repeat},
	} {
		s := Stream{Rule: v.rule}
		s.Snapshot(5000)
		require.Equal(t, Continuous, s.Step(IDs{First: 5001, Last: 5001, Prev: 5000}).Verdict, v.rule.String())
		require.Equal(t, v.want, s.Check(v.old).Verdict, "%s %+v", v.rule, v.old)
	}
}

// A make-before-break rotation on OKX and Bybit: the new connection
// subscribes and gets a snapshot while the old one still delivers
// messages it had not yet sent, older than that snapshot. They are
// repeats (the "our own rotation"), never a gap; a message below
// where the stream was before the snapshot is still a gap (a numbering
// started again unannounced lands there).
func TestAdversarialRotationAfterSnapshot(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		rule     Rule
		old      []IDs // the old connection's messages after the new snapshot
		applied  IDs   // the last message applied before the new snapshot
		below    IDs   // an id below the stream's position
		newFirst IDs   // the new connection's first diff after its snapshot
	}{
		{Bybit, []IDs{{Last: 5002}, {Last: 5003}, {Last: 5004}, {Last: 5005}}, IDs{Last: 5001}, IDs{Last: 4990}, IDs{Last: 5006}},
		{OKX, []IDs{{Prev: 5001, Last: 5002}, {Prev: 5002, Last: 5004}, {Prev: 5004, Last: 5004}, {Prev: 5004, Last: 5005}}, IDs{Prev: 5000, Last: 5001}, IDs{Prev: 4980, Last: 4990}, IDs{Prev: 5005, Last: 5008}},
	} {
		s := Stream{Rule: v.rule}
		s.Snapshot(5000)
		require.Equal(t, cont, s.Step(v.applied), v.rule.String())
		s.Snapshot(5005) // the new connection's
		for _, id := range v.old {
			require.Equal(t, rep, s.Step(id), "%s: the old connection's %+v", v.rule, id)
		}
		require.Equal(t, rep, s.Check(v.applied), "%s: the message applied last, again", v.rule)
		require.Equal(t, Gap, s.Check(v.below).Verdict, "%s: below the stream's position", v.rule)
		require.Equal(t, Continuous, s.Step(v.newFirst).Verdict, "%s: the new connection carries on", v.rule)
		require.Equal(t, rep, s.Check(v.old[len(v.old)-1]), v.rule.String())

		// A snapshot below the stream starts a new numbering: nothing of
		// the old one is covered.
		s.Snapshot(40)
		require.Equal(t, Gap, s.Check(v.old[0]).Verdict, "%s: after a lower snapshot", v.rule)
	}
}

// Coinbase Advanced Trade: sequence_num per connection, from 0; a new
// connection (Reset) counts again; any jump is a gap, whatever its size.
func TestAdversarialCoinbase(t *testing.T) {
	t.Parallel()
	s := Stream{Rule: Coinbase}
	for n := uint64(0); n < 5; n++ {
		require.Equal(t, cont, s.Step(IDs{Last: n}))
	}
	require.Equal(t, rep, s.Step(IDs{Last: 0}))
	require.Equal(t, rep, s.Step(IDs{Last: 4}))
	require.Equal(t, gapOf(5, 5), s.Step(IDs{Last: 6}))
	require.Equal(t, cont, s.Step(IDs{Last: 7}), "the stream follows on after the gap")
	s.Reset()
	require.Equal(t, cont, s.Step(IDs{Last: 0}))
	require.Equal(t, gapOf(1, 999), s.Step(IDs{Last: 1000}))
}

// Every depth each venue's docs offer for a book subscription is offered
// here, and nothing between them: Kraken "book" (v1 and v2), Bybit
// "Orderbook" (spot, derivatives, options), OKX "Order book channel".
func TestAdversarialDepths(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		name string
		d    BookDepth
		docs []int
	}{
		{"kraken", KrakenDepth, []int{10, 25, 100, 500, 1000}},
		{"bybit", BybitDepth, []int{1, 25, 50, 100, 200, 500, 1000}},
		{"okx", OKXDepth, []int{1, 5, 50, 400}},
	} {
		for n := 0; n <= 1001; n++ {
			require.Equal(t, slices.Contains(v.docs, n), v.d.Offers(n), "%s depth %d", v.name, n)
		}
		require.True(t, v.d.Offers(v.d.Default), v.name)
	}
}
