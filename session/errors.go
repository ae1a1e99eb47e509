package session

import (
	"errors"
	"strconv"
	"time"
)

// Errors of the session.
var (
	// ErrNoEndpoints: Config.Endpoints lacks an address the session needs:
	// Stream always; for Binance REST too, and API with Credentials; for
	// the other venues API with Key, and for Kraken's Key REST too (its
	// token).
	ErrNoEndpoints = errors.New("session: Config.Endpoints needs Stream and REST (and API with credentials); nothing defaults to production")
	// ErrConfig: the configuration or a request cannot work.
	ErrConfig = errors.New("session: invalid configuration")
	// ErrNoCredentials: orders need Config.Credentials.
	ErrNoCredentials = errors.New("session: no credentials: the session has no order connection")
	// ErrDisconnected: the order connection was lost before the venue
	// answered. The venue may or may not have acted on the request: its
	// execution reports tell.
	ErrDisconnected = errors.New("session: order connection lost before the venue answered (outcome unknown; watch the execution reports)")
	// ErrBadAnswer: the venue answered the request, but its answer could
	// not be read (the parser's error is wrapped). The venue may or may not
	// have acted on the request: its execution reports tell.
	ErrBadAnswer = errors.New("session: the venue's answer could not be read (outcome unknown; watch the execution reports)")
	// ErrNotSent: the request could not be written; the venue never saw it.
	ErrNotSent = errors.New("session: request not sent")
	// ErrClosed: the session is closed.
	ErrClosed = errors.New("session: closed")
	// ErrNoAnswer: the venue did not answer a private login or subscription
	// (OKX login and subscribe, Bybit auth and subscribe, Bybit's trade
	// connection auth, Kraken and Coinbase subscribe) within 10 s on
	// Client.Clock, restarted at each answer; an answer echoing a request
	// id the session never sent counts as none. Wrapped by the
	// [LoginError] the session reports (Step "login", "trade login" or
	// "subscribe", Channel the first unanswered subscription); the session
	// tries again on the same connection after its backoff, as after a
	// refusal (the login again, or the unanswered subscriptions alone).
	ErrNoAnswer = errors.New("session: no answer from the venue")
)

// VenueError is a request the venue refused, with its code and message
// (Binance's error codes: -1021 timestamp outside recvWindow, -2010 new
// order rejected, -2011 cancel rejected, …).
type VenueError struct {
	RequestID uint64
	Code      int64
	Msg       string
	// Status is the answer's status where the venue sends one (Binance
	// WS-API: 400, 403, 409, 418 IP banned, 429 over a rate limit, 5xx);
	// 0 otherwise.
	Status int
	// RetryAfter is when the venue takes requests again, by its clock,
	// where it said (Binance WS-API error.data.retryAfter on a 418 or
	// 429: keep sending before it and the ban grows; Bybit's
	// X-Bapi-Limit-Reset-Timestamp on a 10006, the rate limit's window
	// reset); zero otherwise.
	RetryAfter time.Time
}

func (e *VenueError) Error() string {
	return "session: venue refused request " + strconv.FormatUint(e.RequestID, 10) + ": code " + strconv.FormatInt(e.Code, 10) + ": " + e.Msg
}
