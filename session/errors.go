package session

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/meltica/meltica/schema"
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
	// not be read (the parser's error is wrapped), or is a success that
	// names no order or another order than the request's (every venue:
	// pendingOrder.check). The venue may or may not have acted on the
	// request: its execution reports tell.
	ErrBadAnswer = errors.New("session: the venue's answer could not be read (outcome unknown; watch the execution reports)")
	// errNoOrder: a venue's success to a place or a cancel that names no
	// order (wrapped in ErrBadAnswer): not an ack of the order asked about.
	errNoOrder = errors.New("a success that carries no order")
	// errOtherOrder: a venue's success to a place or a cancel that names
	// another order than the request's (wrapped in ErrBadAnswer).
	errOtherOrder = errors.New("a success that names another order")
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
	// An order request unanswered Config.OrderAnswerTimeout (30 s by
	// default) on a connection that stays up ends with an error wrapping
	// it too: the outcome is unknown, as for ErrDisconnected.
	ErrNoAnswer = errors.New("session: no answer from the venue")
	// ErrRESTTimeout: a REST call of the session (the instrument list,
	// the server time, Kraken's WebSocket token, an order query) was not
	// answered, to its last byte, within Config.RESTTimeout on
	// Client.Clock. It wraps context.DeadlineExceeded.
	ErrRESTTimeout = fmt.Errorf("session: no REST answer within Config.RESTTimeout: %w", context.DeadlineExceeded)
)

// Kinds of a venue's refusal of an order request. Place, Cancel and Amend
// return the venue's [*VenueError] wrapped with one of these where its
// code (Kraken: its error string) says which: errors.Is(err,
// ErrRateLimited) and errors.As(err, &verr) both hold. A refusal of no
// kind here is the venue's answer about the request itself (a filter, a
// precision, the balance: Binance -1013, -1111, -2010; OKX 51xxx; Bybit
// 10001, 110xxx, 170xxx): sent again unchanged, it is refused again.
var (
	// ErrRateLimited: refused for the venue's rate limits; the venue did
	// not act on the request. Send again after VenueError.RetryAfter when
	// set, else after a backoff. Binance -1003, -1015 and statuses 429,
	// 418; OKX 50011, 50061; Bybit 10006, 10018, 170005, 170222, and on
	// its trade connection 10429, 20003, 10403; Kraken
	// "EOrder:Rate limit exceeded", "EAPI:Rate limit exceeded",
	// "EGeneral:Too many requests", "EService:Throttled…",
	// "EGeneral:Temporary lockout".
	ErrRateLimited = errors.New("session: refused for the venue's rate limits (not acted on; send again after VenueError.RetryAfter or a backoff)")
	// ErrMaybeSent: the venue answered that it does not know whether it
	// acted on the request (outcome unknown, as [ErrDisconnected]): a
	// place may have made an order, whose execution reports tell, and the
	// next reconciliation pass looks it up by its client order id. Binance
	// -1006, -1007 ("Send status unknown; execution status unknown") and
	// statuses 5xx ("the execution status is UNKNOWN and could have been a
	// success", "General API Information"); OKX 50004 ("does not indicate
	// success or failure of order, please check order status"), 50001
	// (service unavailable), 50013 (busy), 50026 (system error); Bybit
	// 10000 (server timeout), 10016 (server error); Kraken
	// "EGeneral:Internal error".
	ErrMaybeSent = errors.New("session: the venue does not know whether it acted on the request (outcome unknown; watch the execution reports)")
	// ErrOrderNotOpen: a cancel or amend of an order the venue does not
	// have open: filled, canceled or expired already (a cancel racing a
	// fill), or never placed; the order's execution reports tell which.
	// Binance -2011 "Unknown order sent.", -2013, -2026; OKX 51400, 51401,
	// 51402, 51503, 51509, 51510, 51603; Bybit 110001, 110008, 110010,
	// 170213; Kraken "EOrder:Unknown order".
	ErrOrderNotOpen = errors.New("session: the order is not open at the venue (filled, canceled, expired or unknown; its execution reports tell)")
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

// SubscribeError is a market connection's request the venue refused (its
// answer, published as a schema.ControlVenueError too): a subscription to
// a channel or stream the venue does not serve (Binance code 2 "Invalid
// request: invalid stream", OKX 60018), a symbol it does not list, a
// request over its limits (Bybit "args size >10"). [Session.WaitConnected]
// returns it while the session is not ready. RequestID is the request's
// id where the answer names it (Binance), Code the venue's code (0 where
// it sends none), Msg its message.
type SubscribeError struct {
	Venue     schema.Venue
	RequestID uint64
	Code      int64
	Msg       string
}

func (e *SubscribeError) Error() string {
	s := "session: " + string(e.Venue) + " refused a market data request"
	if e.Code != 0 {
		s += ": code " + strconv.FormatInt(e.Code, 10)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

func (e *VenueError) Error() string {
	return "session: venue refused request " + strconv.FormatUint(e.RequestID, 10) + ": code " + strconv.FormatInt(e.Code, 10) + ": " + e.Msg
}
