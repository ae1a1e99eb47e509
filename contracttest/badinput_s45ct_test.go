package contracttest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Contract 6 (DESIGN.md; normalize doc "Decoding", ParseError; wsclient
// ErrInvalidUTF8): malformed JSON, an unknown message type, text that is
// not UTF-8, a NaN or a negative price each get a typed error and a
// counter, the message is dropped, and the connection and every other
// event are unharmed: no panic, no reconnect, the good trades around them
// delivered.
func TestS45ctBadVenueInputCostsNothingElse(t *testing.T) {
	p, conn := startPipeline(t, nil)
	var rec recorder
	sub, err := p.disp.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: rec.add})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	send(t, conn,
		trade(t, 1, "67000.01", "BTCUSDT"),
		[]byte(`{"e":"trade","E":123456789,"s":"BTCUSDT","t":`), // cut short
		trade(t, 2, "NaN", "BTCUSDT"),
		trade(t, 3, "-1.5", "BTCUSDT"),
		[]byte(`{"e":"someEventNobodyDocuments","E":123456789,"s":"BTCUSDT"}`),
		[]byte("\xff\xfe not UTF-8"),
		[]byte(`not JSON at all`),
		trade(t, 4, "67000.02", "BTCUSDT"),
	)
	require.Eventually(t, func() bool {
		for _, ev := range rec.events() {
			if ev.Type == schema.EventTrade && ev.Trade.ID.Equal("4") {
				return true
			}
		}
		return false
	}, waitFor, time.Millisecond, "the good trade after the bad input never arrived")
	// The handler's errors reach OnEvent on the client's own goroutine.
	var reported []wsclient.Event
	require.Eventually(t, func() bool {
		for {
			select {
			case e := <-p.events:
				if e.Err != nil {
					reported = append(reported, e)
				}
			default:
				return len(reported) >= 5
			}
		}
	}, waitFor, time.Millisecond)

	var ids []string
	for _, ev := range rec.events() {
		require.NotEqual(t, schema.EventGap, ev.Type, "bad input cost a gap: %+v", ev.ControlOrZero())
		if ev.Type == schema.EventTrade {
			ids = append(ids, string(ev.Trade.ID.Bytes()))
		}
	}
	assert.Equal(t, []string{"1", "4"}, ids, "the good trades, and only them")

	var parseErrs []*normalize.ParseError
	invalid := 0
	for _, e := range reported {
		if pe, ok := errorsAs[*normalize.ParseError](e.Err); ok {
			assert.Equal(t, wsclient.ReasonHandlerError, e.Reason)
			assert.Equal(t, schema.VenueBinance, pe.Venue)
			parseErrs = append(parseErrs, pe)
			continue
		}
		if errors.Is(e.Err, wsclient.ErrInvalidUTF8) {
			invalid++
			continue
		}
		t.Errorf("untyped error reported: %v (%s)", e.Err, e.Reason)
	}
	assert.Equal(t, 1, invalid, "the text that is not UTF-8")
	assert.Len(t, parseErrs, 4, "one *ParseError a bad message: %v", parseErrs)
	matches := func(target error) int {
		n := 0
		for _, pe := range parseErrs {
			if errors.Is(pe, target) {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 2, matches(normalize.ErrMalformed), "the message cut short and the text that is not JSON: %v", parseErrs)
	assert.Equal(t, 1, matches(schema.ErrDecimalNotFinite), "the NaN price: %v", parseErrs)
	assert.Equal(t, 1, matches(normalize.ErrNegative), "the negative price: %v", parseErrs)

	ps := p.parser.Stats()
	assert.Equal(t, uint64(4), ps.Errors)
	assert.Equal(t, uint64(1), ps.Unknown, "the unknown message type is counted, not an error")
	assert.Zero(t, ps.Panics)
	cs := p.client.Stats()
	assert.Equal(t, uint64(1), cs.InvalidFrames)
	assert.Zero(t, cs.TotalReconnects(), "bad input cost the connection")
	assert.Equal(t, uint64(1), cs.ConnID)
	assert.Equal(t, schema.ConnConnected, cs.State)
}
