package continuity

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Bybit v5 "Orderbook": u = 1 is a restart's snapshot data, and seq, the
// cross sequence, orders the data the venue generated ("for the smaller
// seq, then it means the data is generated earlier"). Every u = 1 was a
// Restart, so a restart's message delivered again after the stream moved
// past it (a rotation's other connection, a level-1 snapshot pushed again
// before a change, a frame twice) restarted the stream at that older
// state. Now a u = 1 older by seq than the stream's newest data is a
// Repeat; one no older (newer, the same seq, or none sent) is still a
// Restart; the newest seq survives Reset and Snapshot.
func TestS49bybitOlderIsRepeat(t *testing.T) {
	t.Parallel()
	// 500 (seq 100), 501 (101), the restart u = 1 (110), u = 2 (111).
	moved := func() *Stream {
		s := &Stream{Rule: Bybit}
		s.SnapshotOf(IDs{Last: 500, Cross: 100})
		for _, id := range []IDs{{Last: 501, Cross: 101}, {Last: 1, Cross: 110}, {Last: 2, Cross: 111}} {
			s.Step(id)
		}
		return s
	}
	for _, tc := range []struct {
		name  string
		setup func() *Stream
		id    IDs
		want  Result
	}{
		{"the restart again, late", moved, IDs{Last: 1, Cross: 110}, rep},
		{"an older restart, late", moved, IDs{Last: 1, Cross: 105}, rep},
		{"a restart with newer data", moved, IDs{Last: 1, Cross: 112}, rst},
		{"a restart at the stream's newest seq: the same data", moved, IDs{Last: 1, Cross: 111}, rst},
		{"a restart without seq (options)", moved, IDs{Last: 1}, rst},
		{"u = 3 continues: u orders it, not seq", moved, IDs{Last: 3, Cross: 101}, cont},
		{"u continues, newer", moved, IDs{Last: 3, Cross: 112}, cont},
		{"after a reset: the restart again, late", func() *Stream { s := moved(); s.Reset(); return s }, IDs{Last: 1, Cross: 110}, rep},
		{"after a reset: a newer restart", func() *Stream { s := moved(); s.Reset(); return s }, IDs{Last: 1, Cross: 120}, rst},
		{"after a snapshot: the restart again, late", func() *Stream { s := moved(); s.Snapshot(7); return s }, IDs{Last: 1, Cross: 110}, rep},
		{"a snapshot's seq recorded", func() *Stream {
			s := &Stream{Rule: Bybit}
			s.SnapshotOf(IDs{Last: 1, Cross: 110})
			s.Step(IDs{Last: 2, Cross: 111})
			return s
		}, IDs{Last: 1, Cross: 110}, rep},
		{"a stream without seq takes every u = 1", func() *Stream {
			s := &Stream{Rule: Bybit}
			s.Snapshot(1)
			s.Step(IDs{Last: 2})
			return s
		}, IDs{Last: 1, Cross: 50}, rst},
		{"the restart pushed again at u = 1, the same seq", func() *Stream {
			s := &Stream{Rule: Bybit}
			s.SnapshotOf(IDs{Last: 1, Cross: 110})
			return s
		}, IDs{Last: 1, Cross: 110}, rst},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.setup()
			before := *s
			require.Equal(t, tc.want, s.Check(tc.id))
			require.Equal(t, before, *s, "Check changes nothing")
			require.Equal(t, tc.want, s.Step(tc.id))
			if tc.want.Verdict == Repeat {
				require.Equal(t, before, *s, "a repeat leaves the stream as it was")
			}
		})
	}
}
