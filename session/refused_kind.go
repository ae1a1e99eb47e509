package session

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/meltica/meltica/schema"
)

// refusalKinds is how one venue's refusals of order requests are told
// apart: by code (with msg in the message, when set), by status, or by the
// prefix of the message (Kraken, whose errors are strings).
type refusalKinds struct {
	rate, maybe, gone []refusalCode
	// reconnect: the connection accepts no new request, a new one is
	// served (the session replaces it, as at an announced close).
	reconnect  []refusalCode
	rateStatus []int
	maybe5xx   bool
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

// also is the codes of base, the reconciliation's rules of the venue
// (refusalRules: one list of a venue's rate-limit or unknown-order codes
// serves its queries and its orders), and more, of order requests only.
func also(base []int64, more ...int64) []refusalCode {
	return codes(append(slices.Clip(base), more...)...)
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
		rate:       also(binanceRefusals.rateCodes, -1015),
		rateStatus: binanceRefusals.rateStatus,
		maybe:      codes(-1006, -1007),
		maybe5xx:   true,
		// -2011 is every cancel refusal; "Unknown order sent." is the
		// order not open.
		gone: append(also(binanceRefusals.missing, -2026), refusalCode{code: -2011, msg: "Unknown order"}),
	},
	schema.VenueOKX: {
		rate: also(okxRefusals.rateCodes),
		// 50001 service unavailable, 50013 busy, 50026 system error:
		// nothing said of the order made or not.
		maybe: codes(50004, 50001, 50013, 50026),
		gone:  also(okxRefusals.missing, 51400, 51401, 51402, 51503, 51509, 51510),
	},
	schema.VenueBybit: {
		// 10429 and 20003: the trade connection's ("WS OE General code");
		// 10403 its IP limit ("Websocket Trade Guideline").
		rate:  also(bybitRefusals.rateCodes, 170005, 170222, 10429, 20003, 10403),
		maybe: codes(10000, 10016),
		gone:  also(bybitRefusals.missing, 110008, 110010, 170213),
		// 10019: "ws trade service is restarting, do not accept new
		// request, but the request in the process is not affected. You
		// can build new connection to be routed to normal service".
		reconnect: codes(10019),
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

// reconnects reports whether verr, a refusal of venue's, says the
// connection it came on accepts no new request while a new one would be
// served.
func (k *refusalKinds) reconnects(verr *VenueError) bool {
	return k != nil && slices.ContainsFunc(k.reconnect, func(c refusalCode) bool { return c.matches(verr) })
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
