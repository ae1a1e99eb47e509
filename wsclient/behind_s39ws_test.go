package wsclient

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// s39wsUnique returns n distinct frames.
func s39wsUnique(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"u":%d}`, i+1)
	}
	return out
}

// A new connection more than the ring behind the old one, whose first
// frame is a copy of a message the old connection delivered twice (a, u1,
// ..., u300, a: an unchanged ticker), the first copy gone from the ring:
// the join takes the copy the ring keeps, but the new stream is at the
// first. Its next frames (u1, ...) are no repeat the join expects, yet
// the old connection delivered every one of them: exactly once, or a
// reported loss before the repeats. Before s39ws the skipping ended
// without a verdict after 256 such frames and the new connection's 302
// repeats reached the handler, no event said so.
func TestS39wsBehindRingWrongCopy(t *testing.T) {
	a, c1, c2, z, end := `{"a":1}`, `{"c":1}`, `{"c":2}`, `{"z":0}`, `{"end":1}`
	old := append(append([]string{a}, s39wsUnique(300)...), a, c1)
	sent := append(append([]string(nil), old...), c2)
	got, h := abaRotation(t, old, sent)
	exact := append(append([]string{z}, old...), c2, end)
	if len(got) == len(exact) {
		require.Equal(t, exact, got)
		return
	}
	require.NotZero(t, h.rec.count(func(ev Event) bool {
		return errors.Is(ev.Err, ErrRotationUnaligned) || errors.Is(ev.Err, ErrRotationDropped)
	}), "%d frames delivered, %d exactly once; no loss reported; events %v", len(got), len(exact), h.rec.all())
}

// A new connection more than the ring behind the old one that catches up
// (its reader drains a backlog faster than the old connection delivers):
// its first frames match none of the old connection's latest 256 when
// they come (u43, u44: the ring keeps u45..u300), its third matches the
// ring's oldest. The two before it were delivered by the old connection,
// before those 256 (the test's pool of 16 frames queues 4): they are dropped as
// repeats, and no loss is reported. Before s39ws they were counted as
// frames the old connection never delivered (ErrRotationDropped: a false
// loss, a host's needless resync; found by the lead on a loaded machine,
// 7d4ad10).
func TestS39wsBehindRingCatchUp(t *testing.T) {
	z, end := `{"z":0}`, `{"end":1}`
	old := s39wsUnique(300)
	got, h := abaRotation(t, old, old[42:])
	require.Equal(t, append(append([]string{z}, old...), end), got)
	require.Zero(t, h.rec.count(func(ev Event) bool {
		return errors.Is(ev.Err, ErrRotationUnaligned) || errors.Is(ev.Err, ErrRotationDropped)
	}), "events %v", h.rec.all())
	require.Zero(t, h.c.Stats().RotationDropped)
}

// The rotation's history at its bound: histMax distinct hashes are held
// (each surely delivered), the next is not and the set says it is full —
// then any frame may have been delivered (maybe), only those it holds
// surely were; unkeyed is never held. No probe loops for ever at the bound.
func TestS39wsHistoryBound(t *testing.T) {
	var hs history
	for i := range uint64(histMax) {
		hs.add(i*histSlots+1, int(i)) // every one on the same first slot: the longest probes
	}
	require.False(t, hs.full)
	require.True(t, hs.delivered(1))
	require.True(t, hs.delivered((histMax-1)*histSlots+1))
	hs.add(2, histMax) // one too many
	require.True(t, hs.full)
	require.False(t, hs.delivered(2))
	require.True(t, hs.maybe(2))
	require.False(t, hs.delivered(unkeyed))
	hs.add(1, histMax+1) // held already: still held
	require.True(t, hs.delivered(1))
}

// A new connection at a copy the ring lost, its next frames the very
// ones that followed the copies the ring keeps (a, b, a, b, ...: an
// unchanged pair of tickers, 301 frames, the new stream from the first):
// every place of the ambiguous join follows it until the oldest reaches
// the last repeat, then the skipping ends — with the new stream 46 frames
// short of the old one's end. Exactly once, or a reported loss before the
// repeats.
func TestS39wsBehindRingPeriodic(t *testing.T) {
	a, b, c, z, end := `{"a":1}`, `{"b":1}`, `{"c":1}`, `{"z":0}`, `{"end":1}`
	old := make([]string, 0, 301)
	for i := range 301 {
		old = append(old, [2]string{a, b}[i%2])
	}
	got, h := abaRotation(t, old, append(append([]string(nil), old...), c))
	exact := append(append([]string{z}, old...), c, end)
	if len(got) == len(exact) {
		require.Equal(t, exact, got)
		return
	}
	require.NotZero(t, h.rec.count(func(ev Event) bool {
		return errors.Is(ev.Err, ErrRotationUnaligned) || errors.Is(ev.Err, ErrRotationDropped)
	}), "%d frames delivered, %d exactly once; no loss reported; events %v", len(got), len(exact), h.rec.all())
}

// The history's cost a frame during a rotation's overlap: one add (the
// old connection's frame) and one look-up (a new connection's), of
// well-spread hashes, the set refilled from empty to its bound.
func BenchmarkS39wsHistory(b *testing.B) {
	var hs history
	var seed uint64 = 0x9e3779b97f4a7c15
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%histMax == 0 {
			hs = history{}
		}
		h := (uint64(i) + 1) * seed
		hs.add(h, i)
		if !hs.delivered(h) {
			b.Fatal("added, not delivered")
		}
	}
}

// A new connection further behind the old one than the ring and its queue
// hold (u31..u44 gone from the ring, 14 frames, the test's queue 4): its
// frames the old connection delivered are repeats, dropped as they come,
// so that its reader goes on and the stream joins at the ring's oldest.
// Before s39ws they filled the queue, the reader waited for the switch,
// and the switch came only when RotationOverlap ran out (here never: the
// clock stands), unaligned, the queued repeats delivered again.
func TestS39wsBehindRingBeyondQueue(t *testing.T) {
	z, end := `{"z":0}`, `{"end":1}`
	old := s39wsUnique(300)
	got, h := abaRotation(t, old, old[30:])
	require.Equal(t, append(append([]string{z}, old...), end), got)
	require.Zero(t, h.rec.count(func(ev Event) bool {
		return errors.Is(ev.Err, ErrRotationUnaligned) || errors.Is(ev.Err, ErrRotationDropped)
	}), "events %v", h.rec.all())
}
