package wire

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/schema"
)

// TestS25rvTruncatedIsMalformed: every prefix of a message of either
// layout read (7 with its run, 6 without) is refused with ErrMalformed, a
// typed error, whatever the event type: the run's four bytes cut short
// included.
func TestS25rvTruncatedIsMalformed(t *testing.T) {
	src := &schema.CanonicalEvent{}
	var d Decoder
	ev := &schema.CanonicalEvent{}
	for typ := range schema.NumEventTypes {
		fixture.Full(src, typ+1)
		src.Type = schema.EventType(typ)
		for _, v := range []byte{Version, PrevVersion} {
			good := AppendVersion(nil, src, uint64(typ)+1, 0x01020304, v)
			for n := range len(good) {
				ev.Reset()
				_, _, err := d.DecodeRun(good[:n], ev)
				require.ErrorIs(t, err, ErrMalformed, "layout %d, type %d, cut at %d of %d", v, typ, n, len(good))
			}
			ev.Reset()
			seq, run, err := d.DecodeRun(good, ev)
			require.NoError(t, err)
			require.Equal(t, uint64(typ)+1, seq)
			if v == Version {
				require.Equal(t, uint32(0x01020304), run)
			} else {
				require.Zero(t, run)
			}
		}
	}
}
