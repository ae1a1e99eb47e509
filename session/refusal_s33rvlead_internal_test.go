package session

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// sawReady forgets only the refusals WaitConnected's copy of the board
// held when it saw the session ready: one recorded between that copy and
// sawReady (the venue's answer read meanwhile, on the same connection)
// still counts. Clearing the board whole, as before, lost it.
func TestS33rvleadSawReadyKeepsALaterRefusal(t *testing.T) {
	b := newStateBoard(2, false)
	b.refuseMarket(0, 7, schema.VenueOKX, &schema.Control{Code: 60018, Reason: "first"})
	seen := slices.Clone(b.refused) // WaitConnected's copy: ready
	b.refuseMarket(0, 7, schema.VenueOKX, &schema.Control{Code: 60018, Reason: "second"})
	b.refuseMarket(1, 3, schema.VenueOKX, &schema.Control{Code: 60012, Reason: "other shard"})
	b.sawReady(seen)
	require.NotNil(t, b.refused[0].err, "the refusal after the copy still counts")
	require.Equal(t, "second", b.refused[0].err.Msg)
	require.NotNil(t, b.refused[1].err, "the other shard's, after the copy, still counts")

	seen = slices.Clone(b.refused)
	b.sawReady(seen)
	require.Nil(t, b.refused[0].err, "seen ready after it: forgotten")
	require.Nil(t, b.refused[1].err)

	b.refuseMarket(0, 0, schema.VenueOKX, &schema.Control{Code: 1})
	require.Nil(t, b.refused[0].err, "read with no live connection: counts for none")
}
