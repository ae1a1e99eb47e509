package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS36BybitTradeRateRefusals: Bybit v5 "Error Codes", "WS OE General
// code": the trade connection's own rate refusals (10429 "System level
// frequency protection", 20003 "Too frequent requests under the same
// session") are ErrRateLimited: the order was not acted on, and the host
// can tell a rate limit from a refusal of the order. Before s36sess they
// were of no kind.
func TestS36BybitTradeRateRefusals(t *testing.T) {
	for _, c := range []struct {
		code int64
		msg  string
	}{
		{10429, "System level frequency protection"},
		{20003, "Too frequent requests under the same session"},
	} {
		t.Run(c.msg, func(t *testing.T) {
			got := venueRefusals[schema.VenueBybit].kind(&VenueError{Code: c.code, Msg: c.msg})
			assert.Equal(t, ErrRateLimited, got)
		})
	}
}
