package session

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/meltica/meltica/schema"
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
	// 418; OKX 50011, 50061; Bybit 10006, 10018, 170005, 170222; Kraken
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
	// success or failure of order, please check order status"); Bybit
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

// refusalKinds is how one venue's refusals of order requests are told
// apart: by code (with msg in the message, when set), by status, or by the
// prefix of the message (Kraken, whose errors are strings).
type refusalKinds struct {
	rate, maybe, gone []refusalCode
	rateStatus        []int
	maybe5xx          bool
}

type refusalCode struct {
	code int64
	msg  string // a prefix of the message (code 0: Kraken) or a part of it
}

func (c refusalCode) matches(verr *VenueError) bool {
	if c.code == 0 {
		return c.msg != "" && strings.HasPrefix(verr.Msg, c.msg)
	}
	return verr.Code == c.code && strings.Contains(verr.Msg, c.msg)
}

func codes(cs ...int64) []refusalCode {
	out := make([]refusalCode, len(cs))
	for i, c := range cs {
		out[i].code = c
	}
	return out
}

func texts(ms ...string) []refusalCode {
	out := make([]refusalCode, len(ms))
	for i, m := range ms {
		out[i].msg = m
	}
	return out
}

// venueRefusals: each venue's documented codes (Binance spot "Error codes"
// and WebSocket API "General API Information"; OKX v5 "Error Code"; Bybit
// v5 "Error Codes"; Kraken "Spot Error Messages").
var venueRefusals = map[schema.Venue]*refusalKinds{
	schema.VenueBinance: {
		rate:       codes(-1003, -1015),
		rateStatus: []int{429, 418},
		maybe:      codes(-1006, -1007),
		maybe5xx:   true,
		// -2011 is every cancel refusal; "Unknown order sent." is the
		// order not open.
		gone: append([]refusalCode{{code: -2011, msg: "Unknown order"}}, codes(-2013, -2026)...),
	},
	schema.VenueOKX: {
		rate:  codes(50011, 50061),
		maybe: codes(50004),
		gone:  codes(51400, 51401, 51402, 51503, 51509, 51510, 51603),
	},
	schema.VenueBybit: {
		rate:  codes(10006, 10018, 170005, 170222),
		maybe: codes(10000, 10016),
		gone:  codes(110001, 110008, 110010, 170213),
	},
	schema.VenueKraken: {
		rate: texts("EOrder:Rate limit exceeded", "EAPI:Rate limit exceeded", "EGeneral:Too many requests",
			"EService:Throttled", "EGeneral:Temporary lockout"),
		maybe: texts("EGeneral:Internal error"),
		gone:  texts("EOrder:Unknown order"),
	},
}

// kind is the kind of verr, a refusal of venue's: one of the errors above,
// or nil.
func (k *refusalKinds) kind(verr *VenueError) error {
	in := func(cs []refusalCode) bool {
		return slices.ContainsFunc(cs, func(c refusalCode) bool { return c.matches(verr) })
	}
	switch {
	case k == nil:
		return nil
	case slices.Contains(k.rateStatus, verr.Status) || in(k.rate):
		return ErrRateLimited
	case (k.maybe5xx && verr.Status >= 500) || in(k.maybe):
		return ErrMaybeSent
	case in(k.gone):
		return ErrOrderNotOpen
	}
	return nil
}

// refusalKind wraps the venue's refusal in err, an order request's answer,
// with its kind (see ErrRateLimited); other errors are returned as they
// are.
func (s *Session) refusalKind(err error) error {
	var verr *VenueError
	if err == nil || errors.Is(err, ErrNotSent) || !errors.As(err, &verr) {
		return err
	}
	if kind := venueRefusals[s.spec.venue].kind(verr); kind != nil {
		return fmt.Errorf("%w: %w", kind, err)
	}
	return err
}
