package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS36rvsessOrderRefusalKinds: the codes s36sess left untyped, by the
// venues' docs. Bybit v5 "Websocket Trade Guideline", Create/Amend/Cancel
// Order response: "10403: exceed IP rate limit. 3000 requests per second
// per IP" is ErrRateLimited. OKX v5 "Error Code" (REST/WebSocket public
// error codes): 50013 "Systems are busy. Please try again later.", 50001
// "Service temporarily unavailable", 50026 "System error" say nothing of
// whether the order was made: ErrMaybeSent (looked up by its client order
// id), as Bybit's 10016 "internal server error; Service is restarting".
// Before s36rvsess they were of no kind.
func TestS36rvsessOrderRefusalKinds(t *testing.T) {
	for _, c := range []struct {
		venue schema.Venue
		code  int64
		msg   string
		want  error
	}{
		{schema.VenueBybit, 10403, "exceed IP rate limit. 3000 requests per second per IP", ErrRateLimited},
		{schema.VenueOKX, 50013, "Systems are busy. Please try again later.", ErrMaybeSent},
		{schema.VenueOKX, 50001, "Service temporarily unavailable. Please try again later.", ErrMaybeSent},
		{schema.VenueOKX, 50026, "System error. Try again later.", ErrMaybeSent},
	} {
		t.Run(c.msg, func(t *testing.T) {
			got := venueRefusals[c.venue].kind(&VenueError{Code: c.code, Msg: c.msg})
			assert.Equal(t, c.want, got)
		})
	}
}
