package normalize

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/meltica/meltica/schema"
)

// okxOrderMsg is one element of the private "orders" channel (OKX v5 API,
// "Trading Account → WebSocket → Order channel"; login required). Each
// push is the order's whole state after a change: a placement (state
// "live"), a fill (tradeId, fillPx, fillSz, fillFee, fillTime and the
// accumulated accFillSz, avgPx), a cancel or an amendment (amendResult).
// OKX sends every number and time as a string; px and avgPx are "" for a
// market order, fillSz "0" and tradeId "" when the push is not a fill.
//
// What becomes what:
//   - ordId, clOrdId, tradeId: VenueOrderID, ClientOrderID, TradeID.
//   - state: live is New, partially_filled PartiallyFilled, filled Filled,
//     canceled and mmp_canceled (market maker protection) Canceled. Any
//     other word is a *ParseError wrapping ErrUnknownStatus, unless the
//     push carries a fill (then PartiallyFilled, or Filled once accFillSz
//     reaches sz).
//   - ExecType: Trade when the push carries a fill (fillSz > 0), otherwise
//     Amendment for an amendResult of "0" (succeeded) or "2" (amended by
//     the system: options' pxVol and pxUsd orders), otherwise from the
//     state (New, Canceled; OrderStatus for a partly filled or filled
//     order's push without a fill). A failed amendment ("-1") leaves the
//     order as it was: a working order's push is OrderStatus (not a
//     second New), RejectReason msg; "1" (accepted,
//     then failed, and the order canceled by the system) comes with state
//     canceled: Canceled, RejectReason msg.
//   - ordType: market, limit, post_only (LimitMaker), fok and op_fok
//     (Limit, FOK), ioc (Limit, IOC), optimal_limit_ioc (Market, IOC), mmp
//     (Limit), mmp_and_post_only, elp and rpi (LimitMaker); others stay
//     Unknown.
//   - sz: Qty, in the base currency for spot, in contracts for swaps,
//     futures and options (their instrument's ctVal is the contract size).
//     A spot market order sized in the quote currency (tgtCcy quote_ccy,
//     or no tgtCcy on a market buy: OKX's default, "Default is quote_ccy
//     for buy, base_ccy for sell") has no base quantity: Qty stays zero.
//   - fillFee, fillFeeCcy: Fee and FeeAsset of this fill. OKX signs fees
//     as the account's gain (negative: charged, positive: rebate); Fee is
//     what was paid, as in every venue's report: its sign is flipped. A
//     push without fillFee (recordings trimmed of it) takes the
//     accumulated fee and feeCcy when the fill is the order's first
//     (accFillSz = fillSz), the only case where they are this fill's.
//   - execType: T (taker) or M (maker): IsMaker.
//   - uTime is ExchangeTS; fillTime (or uTime) TransactTime; cTime
//     OrderCreated. CumQuoteQty is avgPx × accFillSz.
//   - cancelSourceReason, or msg for a failed amendment: RejectReason.
//   - instType MARGIN, SWAP, FUTURES, OPTION: posSide (net, long, short)
//     is the PositionSide, reduceOnly ("true") ReduceOnly; fillPnl ("Last
//     filled profit and loss, applicable to orders which have a trade and
//     aim to close position") the fill's RealizedPnL.
type okxOrderMsg struct {
	InstID             text       `json:"instId"`
	OrdID              ident      `json:"ordId"`
	ClOrdID            ident      `json:"clOrdId"`
	TradeID            ident      `json:"tradeId"`
	Px                 optNum     `json:"px"`
	Sz                 optNum     `json:"sz"`
	TgtCcy             text       `json:"tgtCcy"`
	OrdType            text       `json:"ordType"`
	Side               text       `json:"side"`
	FillPx             optNum     `json:"fillPx"`
	FillSz             optNum     `json:"fillSz"`
	FillTime           optInteger `json:"fillTime"`
	FillFee            optNum     `json:"fillFee"`
	FillFeeCcy         ident      `json:"fillFeeCcy"`
	Fee                optNum     `json:"fee"`
	FeeCcy             ident      `json:"feeCcy"`
	ExecType           text       `json:"execType"`
	AccFillSz          optNum     `json:"accFillSz"`
	AvgPx              optNum     `json:"avgPx"`
	State              text       `json:"state"`
	AmendResult        text       `json:"amendResult"`
	CancelSourceReason reason     `json:"cancelSourceReason"`
	Msg                reason     `json:"msg"`
	CTime              optInteger `json:"cTime"`
	UTime              optInteger `json:"uTime"`
	InstType           text       `json:"instType"`
	PosSide            text       `json:"posSide"`
	ReduceOnly         boolish    `json:"reduceOnly"`
	FillPnl            optNum     `json:"fillPnl"`
}

var (
	okxStatuses = map[string]schema.OrderStatus{
		"live": schema.StatusNew, "partially_filled": schema.StatusPartiallyFilled, "filled": schema.StatusFilled,
		"canceled": schema.StatusCanceled, "mmp_canceled": schema.StatusCanceled,
	}
	okxStateExecs = map[string]schema.ExecType{
		"live": schema.ExecNew, "canceled": schema.ExecCanceled, "mmp_canceled": schema.ExecCanceled,
		// a push of a partly filled or filled order with no fill of its
		// own (fillSz "0": OKX "Order channel") tells where it stands
		"partially_filled": schema.ExecOrderStatus, "filled": schema.ExecOrderStatus,
	}
	okxOrderTypes = map[string]struct {
		typ schema.OrderType
		tif schema.TimeInForce
	}{
		"market": {schema.OrderTypeMarket, schema.TIFUnknown}, "limit": {schema.OrderTypeLimit, schema.TIFGTC},
		"post_only": {schema.OrderTypeLimitMaker, schema.TIFGTC}, "fok": {schema.OrderTypeLimit, schema.TIFFOK},
		"op_fok": {schema.OrderTypeLimit, schema.TIFFOK}, "ioc": {schema.OrderTypeLimit, schema.TIFIOC},
		"optimal_limit_ioc": {schema.OrderTypeMarket, schema.TIFIOC}, "mmp": {schema.OrderTypeLimit, schema.TIFGTC},
		"mmp_and_post_only": {schema.OrderTypeLimitMaker, schema.TIFGTC},
		// elp: the Enhanced Liquidity Program's "new post-only order
		// type", ordType "elp" (OKX help, "OKX Enhanced Liquidity
		// Program"); rpi: the Retail Price Improvement Program's, which
		// "succeeds" ELP (integrations to migrate "by 2026-10-31"):
		// "ordType: rpi", "RPI maker orders are post-only" (OKX help,
		// "OKX Retail Price Improvement Program").
		"elp": {schema.OrderTypeLimitMaker, schema.TIFGTC}, "rpi": {schema.OrderTypeLimitMaker, schema.TIFGTC},
	}
)

func (m *okxOrderMsg) fill(f *filler) {
	x := f.ev.UseExec()
	f.needID("ordId", m.OrdID)
	f.need("state", m.State.ok)
	// fillSz is "0" in a push that is no fill (OKX v5 "Order channel"):
	// absent from the push of an order that has fills, it cannot tell a
	// fill from a status update, and a fill would be lost.
	if s := string(m.State.bytes()); s == "partially_filled" || s == "filled" {
		f.need("fillSz", m.FillSz.sent)
	}
	f.symbol("instId", &m.InstID)
	f.id(&x.VenueOrderID, m.OrdID)
	f.id(&x.ClientOrderID, m.ClOrdID)
	f.side(&x.Side, "side", &m.Side)
	fill := m.FillSz.ok && m.FillSz.v.Sign() > 0
	if m.FillSz.ok && m.FillSz.v.Sign() < 0 { // no fill, and not "0": malformed
		f.fail("fillSz", ErrNegative)
	}
	derive := f.status(&x.Status, "state", okxStatuses, &m.State, fill)
	t := okxOrderTypes[string(m.OrdType.bytes())]
	x.Type, x.TimeInForce = t.typ, t.tif
	f.price(&x.Price, "px", m.Px.num)
	if !okxQuoteSized(m) {
		f.price(&x.Qty, "sz", m.Sz.num)
	}
	f.price(&x.CumFillQty, "accFillSz", m.AccFillSz.num)
	f.price(&x.AvgPrice, "avgPx", m.AvgPx.num)
	f.millis(&f.main, "uTime", m.UTime.integer)
	f.millis(&x.OrderCreated, "cTime", m.CTime.integer)
	x.TransactTime = f.main
	if derive {
		x.Status = fillStatus(x)
	}
	switch {
	case fill:
		x.ExecType = schema.ExecTrade
		f.id(&x.TradeID, m.TradeID)
		f.price(&x.LastFillQty, "fillSz", m.FillSz.num)
		f.price(&x.LastFillPrice, "fillPx", m.FillPx.num)
		f.needFillPrice("fillPx", m.FillPx.num)
		fee, ccy := m.FillFee, m.FillFeeCcy
		if !fee.ok && m.Fee.ok && x.CumFillQty.Cmp(x.LastFillQty) == 0 {
			fee, ccy = m.Fee, m.FeeCcy // the order's first fill: its accumulated fee is this fill's
		}
		if fee.ok {
			x.Fee = fee.v.Neg() // OKX: negative is a charge
		}
		f.id(&x.FeeAsset, ccy)
		f.decimal(&x.RealizedPnL, m.FillPnl.num)
		x.IsMaker = string(m.ExecType.bytes()) == "M"
		if m.FillTime.v != 0 { // OKX sends "0" and "" for no time; a negative one is refused
			f.millis(&x.TransactTime, "fillTime", m.FillTime.integer)
		}
	case okxAmended(&m.AmendResult):
		x.ExecType = schema.ExecAmendment
	case string(m.AmendResult.bytes()) == "-1" && !x.Status.Final():
		x.ExecType = schema.ExecOrderStatus // the amendment failed: the order as it was
	default:
		x.ExecType = okxStateExecs[string(m.State.bytes())]
	}
	switch a := string(m.AmendResult.bytes()); {
	case okxAmended(&m.AmendResult):
		f.amend = amendDone
	case a == "-1":
		f.amend = amendFailed
	default:
		f.amend = amendNone
	}
	if !m.CancelSourceReason.empty() {
		x.RejectReason = f.p.reason(&m.CancelSourceReason)
	} else if a := string(m.AmendResult.bytes()); a == "-1" || a == "1" {
		x.RejectReason = f.p.reason(&m.Msg)
	}
	if t := string(m.InstType.bytes()); t != "" && t != "SPOT" && m.PosSide.n > 0 { // margin and derivatives
		x.PositionSide = enum(okxPositionSides, &m.PosSide) // a word OKX may add: Unknown, never a dropped report
		x.ReduceOnly = m.ReduceOnly.v
	}
	execCumQuote(x)
	execDerive(f)
}

// okxAlgoOrderMsg is a push of OKX's algo order channels (OKX v5 "Algo
// orders channel", orders-algo: trigger, conditional, oco, chase; "Advance
// algo orders channel", algo-advance: iceberg, twap, move_order_stop). It
// becomes an EventExecReport of the algo order, as Binance's ALGO_UPDATE:
// VenueOrderID algoId, ClientOrderID algoClOrdId, Side side, Qty sz,
// Price ordPx (none when "-1", at market), StopPrice triggerPx (else the
// stop-loss's slTriggerPx, else the take-profit's tpTriggerPx; move_order_
// stop's moveTriggerPx), PositionSide posSide and ReduceOnly reduceOnly
// (margin and derivatives), OrderCreated cTime, TransactTime uTime,
// RejectReason failCode. Type from ordType (okxAlgoType): trigger a
// StopLoss (at market) or StopLossLimit, conditional with one leg its
// stop-loss's or take-profit's (Price then slOrdPx or tpOrdPx), move_order_stop
// a TrailingStop; oco and a conditional of both legs (two orders in one),
// chase, twap and iceberg stay Unknown.
//
// state: live is ExecNew and StatusNew; pause (algo-advance)
// ExecOrderStatus and StatusNew, a status report; partially_effective and effective — the trigger reached,
// the order (or some of the orders) placed — ExecTriggered with StatusNew
// (as Binance's TRIGGERED: the algo works on through the orders it placed,
// whose fills come on the orders channel under their own ordId, with this
// algoId); canceled ExecCanceled and StatusCanceled; order_failed and
// partially_failed ExecRejected and StatusRejected. A trigger is not a
// fill: no report carries LastFillQty (actualSz, actualPx are the placed
// order's size and price, not fills), so counting fills never counts one
// twice. Any other state is a *ParseError wrapping ErrUnknownStatus.
// OKX sends no later push for an effective algo: the order it placed
// says what follows.
type okxAlgoOrderMsg struct {
	InstID        text       `json:"instId"`
	InstType      text       `json:"instType"`
	AlgoID        ident      `json:"algoId"`
	AlgoClOrdID   ident      `json:"algoClOrdId"`
	Side          text       `json:"side"`
	PosSide       text       `json:"posSide"`
	ReduceOnly    boolish    `json:"reduceOnly"`
	Sz            optNum     `json:"sz"`
	OrdType       text       `json:"ordType"`
	OrdPx         optNum     `json:"ordPx"`
	SlOrdPx       optNum     `json:"slOrdPx"`
	TpOrdPx       optNum     `json:"tpOrdPx"`
	TriggerPx     optNum     `json:"triggerPx"`
	SlTriggerPx   optNum     `json:"slTriggerPx"`
	TpTriggerPx   optNum     `json:"tpTriggerPx"`
	MoveTriggerPx optNum     `json:"moveTriggerPx"`
	State         text       `json:"state"`
	FailCode      reason     `json:"failCode"`
	CTime         optInteger `json:"cTime"`
	UTime         optInteger `json:"uTime"`
}

// okxAlgoStates maps the algo states the channels' pages list.
var okxAlgoStates = map[string]struct {
	exec   schema.ExecType
	status schema.OrderStatus
}{
	"live": {schema.ExecNew, schema.StatusNew}, "pause": {schema.ExecOrderStatus, schema.StatusNew}, // paused: still the account's, not working
	"partially_effective": {schema.ExecTriggered, schema.StatusNew}, "effective": {schema.ExecTriggered, schema.StatusNew},
	"canceled":     {schema.ExecCanceled, schema.StatusCanceled},
	"order_failed": {schema.ExecRejected, schema.StatusRejected}, "partially_failed": {schema.ExecRejected, schema.StatusRejected},
}

func (m *okxAlgoOrderMsg) fill(f *filler) {
	x := f.ev.UseExec()
	f.needID("algoId", m.AlgoID)
	f.need("state", m.State.ok)
	f.symbol("instId", &m.InstID)
	f.id(&x.VenueOrderID, m.AlgoID)
	f.id(&x.ClientOrderID, m.AlgoClOrdID)
	f.side(&x.Side, "side", &m.Side)
	st, ok := okxAlgoStates[string(m.State.bytes())]
	if !ok && m.State.ok {
		f.fail("state", fmt.Errorf("%w %q", ErrUnknownStatus, m.State.bytes())) // allocates on this error path only
	}
	x.ExecType, x.Status = st.exec, st.status
	f.price(&x.Qty, "sz", m.Sz.num)
	var px *optNum
	x.Type, px = okxAlgoType(m)
	if px.v.Sign() > 0 { // "-1": at market
		key := "ordPx"
		if px != &m.OrdPx {
			key = "slOrdPx"
			if px == &m.TpOrdPx {
				key = "tpOrdPx"
			}
		}
		f.price(&x.Price, key, px.num)
	}
	for _, px := range [...]struct {
		key string
		n   *optNum
	}{{"triggerPx", &m.TriggerPx}, {"slTriggerPx", &m.SlTriggerPx}, {"tpTriggerPx", &m.TpTriggerPx}, {"moveTriggerPx", &m.MoveTriggerPx}} {
		if px.n.ok {
			f.price(&x.StopPrice, px.key, px.n.num)
			break
		}
	}
	if !m.FailCode.empty() {
		x.RejectReason = f.p.reason(&m.FailCode)
	}
	f.millis(&f.main, "uTime", m.UTime.integer)
	f.millis(&x.OrderCreated, "cTime", m.CTime.integer)
	x.TransactTime = f.main
	if t := string(m.InstType.bytes()); t != "" && t != "SPOT" && m.PosSide.n > 0 {
		x.PositionSide = enum(okxPositionSides, &m.PosSide)
		x.ReduceOnly = m.ReduceOnly.v
	}
}

// okxAlgoType is the order type of an OKX algo order and the field that
// holds its limit price (OKX v5 "Algo orders channel": ordType
// conditional "One-way stop order", oco "One-cancels-the-other order",
// trigger "Trigger order", move_order_stop "Trailing order", chase,
// twap, iceberg; ordPx, slOrdPx, tpOrdPx "-1": "the order will be
// executed at the market price").
func okxAlgoType(m *okxAlgoOrderMsg) (schema.OrderType, *optNum) {
	limit := func(px *optNum, market, lim schema.OrderType) (schema.OrderType, *optNum) {
		if px.v.Sign() > 0 {
			return lim, px
		}
		return market, px
	}
	switch string(m.OrdType.bytes()) {
	case "trigger":
		return limit(&m.OrdPx, schema.OrderTypeStopLoss, schema.OrderTypeStopLossLimit)
	case "move_order_stop":
		return schema.OrderTypeTrailingStop, &m.OrdPx
	case "conditional":
		sl, tp := m.SlTriggerPx.v.Sign() > 0, m.TpTriggerPx.v.Sign() > 0
		switch {
		case sl && !tp:
			return limit(&m.SlOrdPx, schema.OrderTypeStopLoss, schema.OrderTypeStopLossLimit)
		case tp && !sl:
			return limit(&m.TpOrdPx, schema.OrderTypeTakeProfit, schema.OrderTypeTakeProfitLimit)
		}
	}
	return schema.OrderTypeUnknown, &m.OrdPx
}

// OKXLogin returns the login request that opens OKX's private channels
// (OKX v5 API, "WebSocket → Login"): {"op":"login","args":[{"apiKey",
// "passphrase","timestamp","sign"}]}, timestamp the Unix time in seconds
// and sign the Base64 of the HMAC-SHA256, under the API key's secret, of
// timestamp + "GET" + "/users/self/verify". OKX refuses a login whose
// timestamp is more than 30 s from its clock, so the request must be made
// anew for every connection, with the venue's time (apply a measured clock
// offset to ts). The answer is {"event":"login","code":"0"}: a
// schema.ControlSubscribeAck, or a schema.ControlVenueError with OKX's code
// (60009 "Login failed", 60006 "Timestamp request expired", …).
//
// The secret is used for this one signature and not kept.
func OKXLogin(apiKey, passphrase string, secret []byte, ts time.Time) ([]byte, error) {
	if apiKey == "" || passphrase == "" || len(secret) == 0 {
		return nil, fmt.Errorf("%w: OKX login needs an API key, its passphrase and its secret", ErrBadValue)
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	type arg struct {
		APIKey     string `json:"apiKey"`
		Passphrase string `json:"passphrase"`
		Timestamp  string `json:"timestamp"`
		Sign       string `json:"sign"`
	}
	return marshalRequest(&struct {
		Op   string `json:"op"`
		Args []arg  `json:"args"`
	}{"login", []arg{{apiKey, passphrase, stamp, okxSign(secret, stamp+"GET/users/self/verify")}}})
}

// okxSign is OKX's signature: Base64(HMAC-SHA256(secret, payload)).
func okxSign(secret []byte, payload string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// OKXSubscribeOrders returns the subscribe request of the private "orders"
// channel for instType (SPOT, MARGIN, SWAP, FUTURES, OPTION or ANY), to be
// sent after the login's ack. Its pushes become schema.EventExecReport
// events (see [NewOKX]).
func OKXSubscribeOrders(instType string) ([]byte, error) {
	return okxSubscribePrivate("orders", instType)
}

// okxSubscribePrivate is the subscribe request of a channel named by
// instType rather than instId (the private channels; liquidation-orders),
// with its instType when not "".
func okxSubscribePrivate(channel, instType string) ([]byte, error) {
	if instType != "" {
		if err := checkNames("instrument type", []string{instType}); err != nil {
			return nil, err
		}
	}
	type arg struct {
		Channel  string `json:"channel"`
		InstType string `json:"instType,omitempty"`
	}
	return marshalRequest(&struct {
		Op   string `json:"op"`
		Args []arg  `json:"args"`
	}{"subscribe", []arg{{channel, instType}}})
}

// okxQuoteSized reports whether an orders push's sz is a quote amount: a
// spot market order with tgtCcy quote_ccy, or a spot market buy without
// one (OKX "Place order": tgtCcy "Only applicable to SPOT Market Orders.
// Default is quote_ccy for buy, base_ccy for sell"; an order placed by
// another client of the account may not say; ccxt/ccxt#9592).
func okxQuoteSized(m *okxOrderMsg) bool {
	switch string(m.TgtCcy.bytes()) {
	case "quote_ccy":
		return true
	case "":
		t := string(m.InstType.bytes())
		return (t == "SPOT" || t == "") && string(m.OrdType.bytes()) == "market" && sideWords[string(m.Side.bytes())] == schema.SideBuy
	}
	return false
}

// okxAmended reports whether an orders push's amendResult says the order
// was amended: "0" at the host's request, "2" by the system (OKX "Order
// channel": "Automatic amendation successfully, only applicable to pxVol
// and pxUsd orders of Option").
func okxAmended(t *text) bool {
	a := string(t.bytes())
	return a == "0" || a == "2"
}
