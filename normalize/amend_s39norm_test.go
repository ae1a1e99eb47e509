package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS39normOKXAmendWordNotLeft (rewritten by s40norm: the first version
// handed repeatFill amendNone itself and so only restated its signature;
// it could not fail). OKX's amendResult is the word of the one push it
// came in, and it decides what a push repeating the last delivered fill
// is (OKX "Order channel": an amend-order of a partly filled order pushes
// amendResult "0" with the new px and the last fill's fields): with "0" an
// Amendment without the fill, without a word a repeat, dropped. Driven
// through frames: a push refused after its word was read (a cTime that is
// no instant) must leave no word for the next push, and a later amendment
// must still come as one. The test fails if the word outlives its push,
// or if the push's word does not reach repeatFill (the amendment would be
// dropped as a repeat).
func TestS39normOKXAmendWordNotLeft(t *testing.T) {
	later := func(m, uTime string) string {
		return strings.Replace(m, `"uTime":"1646637216768"`, `"uTime":"`+uTime+`"`, 1)
	}
	// an amendment of what the push does not carry (OKX amend-order's
	// attached TP/SL): px and sz as they were, only the word says it
	amend := okxOrderPush("partially_filled", "0.5", "-0.01", "0")
	for _, refusedFirst := range []bool{false, true} {
		f := newConnFeed(t, schema.VenueOKX)
		evs, err := f.feed(1, okxOrderPush("partially_filled", "0.5", "-0.01", ""))
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, schema.ExecTrade, evs[0].Exec.ExecType)

		if refusedFirst {
			_, err = f.feed(1, strings.Replace(later(amend, "1646637216900"), `"cTime":"1646637216765"`, `"cTime":"-5"`, 1))
			require.Error(t, err, "a cTime that is no instant refuses the push")
		}
		// the same fill again, saying nothing of an amendment: a repeat
		evs, err = f.feed(1, later(okxOrderPush("partially_filled", "0.5", "-0.01", ""), "1646637216950"))
		require.NoError(t, err)
		assert.Empty(t, evs, "refused first %v: a repeat of a delivered fill, no amendment: dropped", refusedFirst)

		// the amendment's own push: an Amendment, no fill
		evs, err = f.feed(1, later(amend, "1646637217000"))
		require.NoError(t, err)
		require.Len(t, evs, 1, "refused first %v: the amendment is delivered", refusedFirst)
		assert.Equal(t, schema.ExecAmendment, evs[0].Exec.ExecType, "refused first %v", refusedFirst)
		assert.True(t, evs[0].Exec.LastFillQty.IsZero(), "the amendment carries no fill")
	}
}
