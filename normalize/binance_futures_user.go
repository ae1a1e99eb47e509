package normalize

import (
	"fmt"

	"github.com/meltica/meltica/schema"
)

// bnFuturesOrderMsg is the USDⓈ-M and COIN-M user-data
// "ORDER_TRADE_UPDATE" (Binance USDⓈ-M Futures and COIN-M Futures "Event:
// Order Update"): the order in "o", the event and transaction times in "E"
// and "T". It becomes an EventExecReport, like spot's executionReport:
//
//   - Type is the original order type "ot" (what the host placed: a
//     triggered STOP_MARKET's "o" turns MARKET, as spot keeps a
//     STOP_LOSS_LIMIT's type to the end), else "o"
//     (binanceFuturesOrderTypes: TRAILING_STOP_MARKET is TrailingStop,
//     LIQUIDATION Liquidation; a word Binance adds stays Unknown rather
//     than drop the report); StopPrice is "sp", except for a
//     TRAILING_STOP_MARKET, whose "sp" the venue says to ignore.
//   - ExecType: NEW, CANCELED, EXPIRED, TRADE, AMENDMENT (an order
//     modified) as their names say; CALCULATED ("Liquidation Execution":
//     the fill of a liquidation order, "c" "autoclose-…", or of an ADL,
//     "adl_autoclose") is ExecTrade, because it moves the position like
//     any fill. Status: NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED,
//     EXPIRED_IN_MATCH (self-trade prevention).
//   - PositionSide "ps" (BOTH in one-way mode), ReduceOnly "R", and
//     RealizedPnL "rp", the profit of this fill in the margin asset.
//   - Fee "n" in FeeAsset "N" (COIN-M omits both when there is none);
//     trade id "t" 0 is no trade.
//
// Not carried (no schema field): working type "wt", close-all "cp",
// activation price "AP" and callback rate "cr" of a trailing stop, price
// protection "pP", self-trade prevention mode "V", price match "pm", GTD
// time "gtd", the expiry reason code "er", bid/ask notionals "b"/"a", the
// COIN-M account alias "i" and margin asset "ma".
type bnFuturesOrderMsg struct {
	E  integer `json:"E"`
	TT integer `json:"T"`
	O  struct {
		S  text    `json:"s"`
		C  ident   `json:"c"`
		SS text    `json:"S"`
		O  text    `json:"o"`
		OT text    `json:"ot"`
		F  text    `json:"f"`
		Q  num     `json:"q"`
		P  num     `json:"p"`
		AP num     `json:"ap"`
		SP num     `json:"sp"`
		X  text    `json:"x"`
		XS text    `json:"X"`
		I  ident   `json:"i"`
		L  num     `json:"l"`
		Z  num     `json:"z"`
		LP num     `json:"L"`
		N  ident   `json:"N"`
		Fe num     `json:"n"`
		T  integer `json:"T"`
		TI ident   `json:"t"`
		M  flag    `json:"m"`
		R  flag    `json:"R"`
		PS text    `json:"ps"`
		RP num     `json:"rp"`
	} `json:"o"`
}

// binanceFuturesOrderTypes are the USDⓈ-M and COIN-M order types
// (Binance USDⓈ-M "Event: Order Update": LIMIT, MARKET, STOP,
// STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET,
// LIQUIDATION; COIN-M's: MARKET, LIMIT, STOP, TAKE_PROFIT, LIQUIDATION).
// LIQUIDATION is the venue's forced close (client order id
// "autoclose-…"), not the account's order.
var binanceFuturesOrderTypes = map[string]schema.OrderType{
	"MARKET": schema.OrderTypeMarket, "LIMIT": schema.OrderTypeLimit,
	"STOP": schema.OrderTypeStopLossLimit, "TAKE_PROFIT": schema.OrderTypeTakeProfitLimit,
	"STOP_MARKET": schema.OrderTypeStopLoss, "TAKE_PROFIT_MARKET": schema.OrderTypeTakeProfit,
	binanceTrailingStop: schema.OrderTypeTrailingStop, "LIQUIDATION": schema.OrderTypeLiquidation,
}

// binanceTrailingStop is the futures order type whose "sp" means nothing.
const binanceTrailingStop = "TRAILING_STOP_MARKET"

func (m *bnFuturesOrderMsg) fill(f *filler) {
	o, x := &m.O, f.ev.UseExec()
	f.need("c", o.C.ok)
	f.need("S", o.SS.ok)
	f.need("x", o.X.ok)
	f.need("X", o.XS.ok)
	f.needID("i", o.I)  // null, "" or -1: a report of no order
	f.need("s", o.S.ok) // a report of no symbol reaches no subscriber of its symbol
	f.symbol("s", &o.S)
	f.millis(&f.main, "E", m.E)
	f.id(&x.ClientOrderID, o.C)
	f.id(&x.VenueOrderID, o.I)
	if o.TI.ok && string(o.TI.v.Bytes()) != "0" { // 0: no trade
		f.id(&x.TradeID, o.TI)
	}
	f.id(&x.FeeAsset, o.N)
	f.side(&x.Side, "S", &o.SS)
	typ := &o.O
	if o.OT.ok {
		typ = &o.OT
	}
	x.Type = enum(binanceFuturesOrderTypes, typ)
	x.TimeInForce = enum(binanceTIFs, &o.F)
	x.PositionSide = enum(binancePositionSides, &o.PS)
	x.ReduceOnly = o.R.v
	f.price(&x.Qty, "q", o.Q)
	f.price(&x.Price, "p", o.P)
	f.price(&x.AvgPrice, "ap", o.AP)
	if string(typ.bytes()) != binanceTrailingStop {
		f.price(&x.StopPrice, "sp", o.SP)
	}
	f.price(&x.LastFillQty, "l", o.L)
	f.price(&x.LastFillPrice, "L", o.LP)
	f.price(&x.CumFillQty, "z", o.Z)
	f.decimal(&x.Fee, o.Fe)
	f.decimal(&x.RealizedPnL, o.RP)
	x.IsMaker = o.M.v
	f.millis(&x.TransactTime, "T", o.T)
	f.binanceWords(&o.X, &o.XS)
	f.needFillPrice("L", o.LP)
	execDerive(f)
}

// bnAlgoOrderMsg is USDⓈ-M "ALGO_UPDATE" (Binance USDⓈ-M Futures "Event:
// Algo Order Update"): a conditional order (STOP, STOP_MARKET,
// TAKE_PROFIT, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET), which Binance's
// Algo Service keeps until its trigger price "tp" is reached and then
// places in the matching engine as an order of its own (its id in "ai";
// that order's life comes as ORDER_TRADE_UPDATE). It becomes an
// EventExecReport of the conditional order: ClientOrderID the client algo
// id "caid", VenueOrderID the algo id "aid", StopPrice "tp", Price "p",
// Qty "q", PositionSide "ps", ReduceOnly "R", CumFillQty and AvgPrice the
// matching-engine order's "aq" and "ap" (so far), RejectReason "rm", and
// TransactTime "T" (the page labels "T" event time and "E" transaction
// time in one language and the other way round in another; every other
// Binance event has "E" the event time, and so does this parser).
//
// Algo status "X" (the page's "Algo Status" list): NEW (placed in the
// Algo Service, not yet triggered), CANCELED, REJECTED (refused by the
// matching engine, such as a failed margin check) and EXPIRED (cancelled
// by the system) are the ExecType and Status of those names. TRIGGERING
// ("met the triggering condition and has been forwarded to the matching
// engine") and TRIGGERED ("successfully placed into the matching
// engine") are ExecTriggered with StatusNew: the conditional order still
// works, through the order it placed. FINISHED ("the triggered
// conditional order has been filled or canceled in the matching engine")
// is final: StatusFilled when "aq" reached "q" (or, for a close-position
// order sent with "q" 0, when anything was filled), ExecOrderStatus (a
// status report); otherwise StatusCanceled and ExecCanceled. Any other
// word is a *ParseError wrapping ErrUnknownStatus. No report carries a
// fill (LastFillQty is zero): the fills themselves come, once, from
// ORDER_TRADE_UPDATE, so counting fills from LastFillQty never counts one
// twice.
type bnAlgoOrderMsg struct {
	E integer `json:"E"`
	T integer `json:"T"`
	O struct {
		CAID ident  `json:"caid"`
		AID  ident  `json:"aid"`
		OT   text   `json:"o"`
		S    text   `json:"s"`
		SS   text   `json:"S"`
		PS   text   `json:"ps"`
		F    text   `json:"f"`
		Q    num    `json:"q"`
		X    text   `json:"X"`
		AP   num    `json:"ap"`
		AQ   num    `json:"aq"`
		TP   num    `json:"tp"`
		P    num    `json:"p"`
		R    flag   `json:"R"`
		RM   reason `json:"rm"`
	} `json:"o"`
}

// binanceAlgoStatus is what an algo status says of the conditional order.
type binanceAlgoStatus struct {
	exec   schema.ExecType
	status schema.OrderStatus
}

// binanceAlgoStatuses maps the documented algo statuses; FINISHED is
// settled by the quantities (see bnAlgoOrderMsg).
var binanceAlgoStatuses = map[string]binanceAlgoStatus{
	"NEW":        {schema.ExecNew, schema.StatusNew},
	"CANCELED":   {schema.ExecCanceled, schema.StatusCanceled},
	"REJECTED":   {schema.ExecRejected, schema.StatusRejected},
	"EXPIRED":    {schema.ExecExpired, schema.StatusExpired},
	"TRIGGERING": {schema.ExecTriggered, schema.StatusNew},
	"TRIGGERED":  {schema.ExecTriggered, schema.StatusNew},
	"FINISHED":   {schema.ExecCanceled, schema.StatusCanceled}, // or Filled: see bnAlgoOrderMsg
}

// binanceAlgoFinished is the algo status settled by the quantities.
const binanceAlgoFinished = "FINISHED"

func (m *bnAlgoOrderMsg) fill(f *filler) {
	o, x := &m.O, f.ev.UseExec()
	f.need("aid", o.AID.ok)
	f.need("S", o.SS.ok)
	f.need("X", o.X.ok)
	f.need("s", o.S.ok)
	f.symbol("s", &o.S)
	f.millis(&f.main, "E", m.E)
	f.id(&x.ClientOrderID, o.CAID)
	f.id(&x.VenueOrderID, o.AID)
	f.side(&x.Side, "S", &o.SS)
	x.Type = enum(binanceFuturesOrderTypes, &o.OT)
	x.TimeInForce = enum(binanceTIFs, &o.F)
	st, ok := binanceAlgoStatuses[string(o.X.bytes())]
	if !ok && o.X.ok {
		f.fail("X", fmt.Errorf("%w %q", ErrUnknownStatus, o.X.bytes())) // allocates on this error path only
	}
	x.ExecType, x.Status = st.exec, st.status
	x.PositionSide = enum(binancePositionSides, &o.PS)
	x.ReduceOnly = o.R.v
	f.price(&x.Qty, "q", o.Q)
	f.price(&x.Price, "p", o.P)
	if string(o.OT.bytes()) != binanceTrailingStop {
		f.price(&x.StopPrice, "tp", o.TP)
	}
	f.price(&x.CumFillQty, "aq", o.AQ)
	f.price(&x.AvgPrice, "ap", o.AP)
	x.RejectReason = f.p.reason(&o.RM)
	f.millis(&x.TransactTime, "T", m.T)
	if string(o.X.bytes()) == binanceAlgoFinished && x.CumFillQty.Sign() > 0 &&
		(x.Qty.Sign() == 0 || x.CumFillQty.Cmp(x.Qty) >= 0) {
		x.ExecType, x.Status = schema.ExecOrderStatus, schema.StatusFilled // its fills were the orders'; ORDER_TRADE_UPDATE told them
	}
	execDerive(f)
}

// bnTriggerRejectMsg is USDⓈ-M "CONDITIONAL_ORDER_TRIGGER_REJECT"
// (Binance USDⓈ-M Futures "Event: Conditional Order Trigger Reject"): a
// conditional order reached its trigger but the order it would have
// placed was refused: {"e","E" event time,"T" send time,"or":{"s","i"
// order id,"r" reason}}. A host must not believe its stop still stands:
// it becomes an EventExecReport with ExecRejected and StatusRejected,
// VenueOrderID "i" and RejectReason "r" (no client id and no side: the
// venue sends none). Binance deprecated the event on 2025-12-15 (the
// reason now comes in ALGO_UPDATE's "rm"); it is still parsed.
type bnTriggerRejectMsg struct {
	E  integer `json:"E"`
	T  integer `json:"T"`
	OR struct {
		S text   `json:"s"`
		I ident  `json:"i"`
		R reason `json:"r"`
	} `json:"or"`
}

func (m *bnTriggerRejectMsg) fill(f *filler) {
	o, x := &m.OR, f.ev.UseExec()
	if !o.S.ok && !o.I.ok {
		f.fail("or", ErrMissingField)
		return
	}
	f.need("s", o.S.ok)
	f.needID("i", o.I) // null, "" or -1: a report of no order
	f.symbol("s", &o.S)
	f.millis(&f.main, "E", m.E)
	f.id(&x.VenueOrderID, o.I)
	x.ExecType, x.Status = schema.ExecRejected, schema.StatusRejected
	x.RejectReason = f.p.reason(&o.R)
	f.millis(&x.TransactTime, "T", m.T)
	execDerive(f)
}
