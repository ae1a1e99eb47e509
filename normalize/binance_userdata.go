package normalize

import (
	"strconv"
	"time"

	"github.com/meltica/meltica/schema"
)

// AppendUserDataSubscribe appends to dst the signed WS-API request
// userDataStream.subscribe.signature with request id id, timestamped at ts
// (sent as milliseconds): apiKey, recvWindow when the encoder has one and
// timestamp, sorted by name, signed (Binance WS-API "User Data Stream
// requests": "Subscribe to User Data Stream through signature
// subscription").
//
// The venue checks the timestamp against its own clock (Binance: refused
// with code -1021 unless serverTime − recvWindow ≤ timestamp <
// serverTime + 1 s), so the request must be made anew, with the venue's
// current time, for every connection: a request kept and re-sent after a
// reconnect is refused. The answer carries the id: a schema.EventControl
// with Kind schema.ControlSubscribeAck, or schema.ControlVenueError with
// the venue's code.
func (e *BinanceOrders) AppendUserDataSubscribe(dst []byte, id uint64, ts time.Time) ([]byte, error) {
	ps := make([]param, 0, 4)
	ps = append(ps, param{key: "apiKey", val: e.creds.apiKey},
		param{key: "timestamp", val: strconv.FormatInt(ts.UnixMilli(), 10), num: true})
	if e.recvWindow > 0 {
		ps = append(ps, param{key: "recvWindow", val: strconv.FormatInt(e.recvWindow, 10), num: true})
	}
	return e.appendSigned(dst, id, "userDataStream.subscribe.signature", ps)
}

// bnExecMsg is spot's executionReport (Binance "User Data Streams for
// Binance", "Order Update"). ExecType "x": NEW, CANCELED, REPLACED, REJECTED, TRADE,
// EXPIRED, TRADE_PREVENTION (expired by self-trade prevention), AMENDMENT
// (quantity amended in place); Status adds PENDING_NEW (an OTO's pending
// order) and EXPIRED_IN_MATCH. RejectReason is "r" unless NONE, else the
// expiry reason "eR" of an expired order (INSUFFICIENT_LIQUIDITY,
// OCO_TRIGGER, …). StopPrice is "P"; "t" -1 is no trade; "N" null is no
// fee asset. Not carried (no schema field): iceberg "F", order list "g",
// execution id "I", on-book "w", last quote quantity "Y", quote order
// quantity "Q", working time "W", self-trade prevention "V" and the
// prevented-match fields, trailing "d"/"D", strategy "j"/"J", pegged and
// allocation fields. RemainingQty is "q" − "z" − "A" (the prevented
// quantity: what self-trade prevention expired, Binance "Self Trade
// Prevention (STP) FAQ"), never below 0; a negative "A" is a
// *ParseError (ErrNegative), as a negative "q" or "z".
//
// A word of "x" or "X" the docs do not list drops the report with a
// *ParseError (ErrUnknownExecType, ErrUnknownStatus) rather than deliver
// ExecUnknown or StatusUnknown, which a strategy cannot act on — unless
// the report carries a fill ("l" > 0): it is then an ExecTrade whose
// status is derived from "z" and "q" (see [ErrUnknownStatus]). Order
// types and times in force the schema does not name stay Unknown.
type bnExecMsg struct {
	S  text    `json:"s"`
	E  integer `json:"E"`
	C  ident   `json:"c"`
	OC ident   `json:"C"`
	I  ident   `json:"i"`
	T  ident   `json:"t"`
	N  ident   `json:"N"`
	SS text    `json:"S"`
	O  text    `json:"o"`
	F  text    `json:"f"`
	X  text    `json:"x"`
	XS text    `json:"X"`
	Q  num     `json:"q"`
	P  num     `json:"p"`
	SP num     `json:"P"`
	L  num     `json:"l"`
	LP num     `json:"L"`
	Z  num     `json:"z"`
	ZQ num     `json:"Z"`
	Fe num     `json:"n"` // a rebate can be negative
	M  flag    `json:"m"`
	R  text    `json:"r"`
	ER text    `json:"eR"`
	TT integer `json:"T"`
	OT integer `json:"O"`
	// A: "Prevented Quantity", the quantity expired by self-trade
	// prevention over the order's life (sent only once some was).
	A optNum `json:"A"`
}

func (m *bnExecMsg) fill(f *filler) {
	x := f.ev.UseExec()
	f.need("c", m.C.ok)
	f.need("S", m.SS.ok)
	f.need("x", m.X.ok)
	f.need("X", m.XS.ok)
	f.needID("i", m.I)  // null, "" or -1: a report of no order
	f.need("s", m.S.ok) // a report of no symbol reaches no subscriber of its symbol
	f.symbol("s", &m.S)
	f.millis(&f.main, "E", m.E)
	f.id(&x.ClientOrderID, m.C)
	f.id(&x.OrigClientOrderID, m.OC)
	f.id(&x.VenueOrderID, m.I)
	f.id(&x.TradeID, m.T)
	f.id(&x.FeeAsset, m.N)
	f.side(&x.Side, "S", &m.SS)
	x.Type = enum(binanceOrderTypes, &m.O)
	x.TimeInForce = enum(binanceTIFs, &m.F)
	f.price(&x.Qty, "q", m.Q)
	f.price(&x.Price, "p", m.P)
	f.price(&x.StopPrice, "P", m.SP)
	f.price(&x.LastFillQty, "l", m.L)
	f.price(&x.LastFillPrice, "L", m.LP)
	f.price(&x.CumFillQty, "z", m.Z)
	f.price(&x.CumQuoteQty, "Z", m.ZQ)
	f.decimal(&x.Fee, m.Fe)
	x.IsMaker = m.M.v
	x.RejectReason = internOrCopy(binanceRejectReasons, &m.R)
	if (x.RejectReason == "" || x.RejectReason == "NONE") && m.ER.n > 0 {
		x.RejectReason = internOrCopy(binanceExpiryReasons, &m.ER)
	}
	f.millis(&x.TransactTime, "T", m.TT)
	f.millis(&x.OrderCreated, "O", m.OT)
	f.binanceWords(&m.X, &m.XS)
	f.needFillPrice("L", m.LP)
	execDerive(f)
	// "original order quantity - executed quantity - prevented quantity =
	// quantity available for further execution" (Binance "Self Trade
	// Prevention (STP) FAQ"): an order DECREMENT left open works on less.
	var prevented schema.Decimal
	f.price(&prevented, "A", m.A.num) // a quantity: negative, the report is corrupt (ErrNegative)
	if x := f.ev.UseExec(); prevented.Sign() > 0 {
		if rem, err := x.RemainingQty.Sub(prevented); err == nil {
			x.RemainingQty = rem
			if rem.Sign() < 0 {
				x.RemainingQty = schema.Decimal{}
			}
		}
	}
}

// binanceWords sets the ExecType and Status of an executionReport or an
// ORDER_TRADE_UPDATE from its words "x" and "X", once its quantities are
// set: a word no table names is a *ParseError, unless the report carries
// a fill ("l" > 0), which is never dropped for a word (an ExecTrade whose
// status follows from "z" and "q"). An ExecTrade of no quantity is a
// *ParseError (ErrBadValue). USDⓈ-M's CALCULATED (the fill of a
// liquidation or ADL order) is an ExecTrade.
func (f *filler) binanceWords(execWord, statusWord *text) {
	x := f.ev.UseExec()
	fill := x.LastFillQty.Sign() > 0
	e, ok := binanceExecTypes[string(execWord.bytes())]
	switch {
	case ok:
		x.ExecType = e
	case fill:
		x.ExecType = schema.ExecTrade
	default:
		x.ExecType = f.execType("x", binanceExecTypes, execWord)
	}
	if f.status(&x.Status, "X", binanceStatuses, statusWord, fill) {
		x.Status = fillStatus(x)
	}
	f.needFill("l")
}
