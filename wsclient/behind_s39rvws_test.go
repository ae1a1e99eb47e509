package wsclient

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// A join on a wrapped ring whose frame the old connection delivered once
// (u300, its last) is exact: the new stream is there, no copy was lost
// with the ring. The frame after it, a message sent alike before the
// ring's 256 (an unchanged ticker back to an earlier value: Kraken's
// v1 and v2 tickers carry no sequence or time), is new: delivered, and
// no loss is reported. Before s39rvws every join on a wrapped ring
// looked the next frame up in the rotation's history, and one the old
// connection had delivered before reported the rotation unaligned (a
// false loss: a session's gap marker, a host's needless resync).
func TestS39rvwsExactJoinOnWrappedRingSentAlikeAfter(t *testing.T) {
	a, z, end := `{"a":1}`, `{"z":0}`, `{"end":1}`
	old := append([]string{a}, s39wsUnique(300)...)
	got, h := abaRotation(t, old, []string{old[len(old)-1], a})
	require.Equal(t, append(append([]string{z}, old...), a, end), got)
	require.Zero(t, h.rec.count(func(ev Event) bool {
		return errors.Is(ev.Err, ErrRotationUnaligned) || errors.Is(ev.Err, ErrRotationDropped)
	}), "events %v", h.rec.all())
}

// The history says where a hash first came: before the ring's oldest
// position or not; a hash it does not hold came before only when the set
// is full (it may have been dropped).
func TestS39rvwsHistoryBefore(t *testing.T) {
	var hs history
	hs.add(7, 10)
	hs.add(7, 300) // a later copy: the first stays
	require.True(t, hs.before(7, 11))
	require.False(t, hs.before(7, 10))
	require.False(t, hs.before(8, 1000), "never delivered")
	hs.full = true
	require.True(t, hs.before(8, 1000), "full: may have been")
	require.False(t, hs.before(7, 10), "held: known")
}
