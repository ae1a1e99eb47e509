package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS39normOKXAmendWordNotLeft: OKX's amendResult is the word of the one
// push it came in; the parser kept it in its fill memory, written while
// the push was read and cleared only when repeatFill read it. A push
// refused after the word was written (a cTime that is no instant) left it
// there, and the next report to reach repeatFill that no OKX orders push
// had written it for was read with it: a repeat of a delivered fill
// became an Amendment. No report does that today (every OKX report with a
// trade id is an orders push, which writes the word anew), so the test
// hands repeatFill such a report itself. Failed before: the repeat was
// delivered as ExecAmendment. The word is now the filler's, the message's
// own: nothing outlives the message.
func TestS39normOKXAmendWordNotLeft(t *testing.T) {
	f := newConnFeed(t, schema.VenueOKX)
	first := okxOrderPush("partially_filled", "0.5", "-0.01", "")
	evs, err := f.feed(1, first)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	fill := *evs[0] // the delivered fill's report, copied

	refused := strings.Replace(okxOrderPush("partially_filled", "0.5", "-0.01", "0"), `"cTime":"1646637216765"`, `"cTime":"-5"`, 1)
	refused = strings.Replace(refused, `"uTime":"1646637216768"`, `"uTime":"1646637216900"`, 1)
	_, err = f.feed(1, refused)
	require.Error(t, err, "a cTime that is no instant refuses the push")

	// A later report of the same fill that says nothing of an amendment.
	again := fill
	again.ExchangeTS += 1e6
	assert.True(t, s39normRepeat(f.p, &again), "a repeat of a delivered fill, no amendment: dropped")
	assert.Equal(t, schema.ExecTrade, again.Exec.ExecType)
}

// s39normRepeat asks p's repeatFill of ev as the parser's run does for a
// report whose message says nothing of an amendment (before the fix:
// repeatFill(ev), the word the parser held).
func s39normRepeat(p frameParser, ev *schema.CanonicalEvent) bool {
	return p.(*Parser).repeatFill(ev, amendNone)
}
