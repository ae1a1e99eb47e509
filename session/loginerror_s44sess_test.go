package session_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS44sessLoginErrorSaysWhatHappened: a LoginError's text tells the
// venue's refusal (its code and message) from no answer at all
// (ErrNoAnswer) and from credentials the session could not make (Kraken's
// token, a key that cannot sign), and names the channel of a refused
// subscription. Before, every one read "… refused", a login the venue
// never answered included ("private login refused: session: no answer
// from the venue").
func TestS44sessLoginErrorSaysWhatHappened(t *testing.T) {
	bad := errors.New("EAPI:Invalid key")
	for _, c := range []struct {
		err  *session.LoginError
		want string
	}{
		{&session.LoginError{Venue: schema.VenueOKX, Step: "login", Code: 60009, Msg: "Login failed."},
			"session: okx private login refused: code 60009: Login failed."},
		{&session.LoginError{Venue: schema.VenueBybit, Step: "login", Msg: "Params Error"},
			"session: bybit private login refused: Params Error"},
		{&session.LoginError{Venue: schema.VenueOKX, Step: "subscribe", Channel: "orders", Attempts: 2, Msg: "channel-conn-count-error"},
			"session: okx private subscribe orders refused: channel-conn-count-error"},
		{&session.LoginError{Venue: schema.VenueOKX, Step: "login", Err: session.ErrNoAnswer},
			"session: okx private login: no answer from the venue"},
		{&session.LoginError{Venue: schema.VenueBybit, Step: "trade login", Err: session.ErrNoAnswer},
			"session: bybit private trade login: no answer from the venue"},
		{&session.LoginError{Venue: schema.VenueKraken, Step: "subscribe", Channel: "executions", Attempts: 1, Err: session.ErrNoAnswer},
			"session: kraken private subscribe executions: no answer from the venue"},
		{&session.LoginError{Venue: schema.VenueBinance, Step: "subscribe", Channel: "userDataStream", Attempts: 3, Err: session.ErrNoAnswer},
			"session: binance private subscribe userDataStream: no answer from the venue"},
		{&session.LoginError{Venue: schema.VenueKraken, Step: "token", Err: bad},
			"session: kraken private token failed: EAPI:Invalid key"},
		{&session.LoginError{Venue: schema.VenueBybit, Step: "trade sign", Err: bad},
			"session: bybit private trade sign failed: EAPI:Invalid key"},
		{&session.LoginError{Venue: schema.VenueCoinbase, Step: "login"},
			"session: coinbase private login refused"},
	} {
		assert.Equal(t, c.want, c.err.Error())
		assert.Equal(t, c.err.Err, errors.Unwrap(c.err), "%s: the cause stays wrapped", c.want)
	}
}
