package normalize

import "github.com/meltica/meltica/schema"

// bnFuturesOrderMsg is the USDⓈ-M user-data "ORDER_TRADE_UPDATE" (Binance
// USDⓈ-M Futures "Event: Order Update"): the order in "o", the event and
// transaction times in "E" and "T". It becomes an EventExecReport, like
// spot's executionReport. Futures order types the schema does not name
// (STOP_MARKET, TRAILING_STOP_MARKET, …) and exec types it does not know
// (CALCULATED, a liquidation) stay Unknown rather than drop the report.
type bnFuturesOrderMsg struct {
	E  integer `json:"E"`
	TT integer `json:"T"`
	O  struct {
		S  text    `json:"s"`
		C  ident   `json:"c"`
		SS text    `json:"S"`
		O  text    `json:"o"`
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
	} `json:"o"`
}

// binanceFuturesOrderTypes are the USDⓈ-M order types the schema names.
var binanceFuturesOrderTypes = map[string]schema.OrderType{
	"MARKET": schema.OrderTypeMarket, "LIMIT": schema.OrderTypeLimit,
	"STOP": schema.OrderTypeStopLossLimit, "TAKE_PROFIT": schema.OrderTypeTakeProfitLimit,
	"STOP_MARKET": schema.OrderTypeStopLoss, "TAKE_PROFIT_MARKET": schema.OrderTypeTakeProfit,
}

func (m *bnFuturesOrderMsg) fill(f *filler) {
	o, x := &m.O, &f.ev.Exec
	f.need("c", o.C.ok)
	f.need("S", o.SS.ok)
	f.need("x", o.X.ok)
	f.need("X", o.XS.ok)
	f.need("i", o.I.ok)
	f.symbol("s", &o.S)
	f.millis(&f.main, "E", m.E)
	f.id(&x.ClientOrderID, o.C)
	f.id(&x.VenueOrderID, o.I)
	if o.TI.ok && string(o.TI.v.Bytes()) != "0" { // 0: no trade
		f.id(&x.TradeID, o.TI)
	}
	f.id(&x.FeeAsset, o.N)
	f.side(&x.Side, "S", &o.SS)
	x.Type = enum(binanceFuturesOrderTypes, &o.O)
	x.TimeInForce = enum(binanceTIFs, &o.F)
	x.ExecType = enum(binanceExecTypes, &o.X)
	x.Status = enum(binanceStatuses, &o.XS)
	f.price(&x.Qty, "q", o.Q)
	f.price(&x.Price, "p", o.P)
	f.price(&x.AvgPrice, "ap", o.AP)
	f.price(&x.StopPrice, "sp", o.SP)
	f.price(&x.LastFillQty, "l", o.L)
	f.price(&x.LastFillPrice, "L", o.LP)
	f.price(&x.CumFillQty, "z", o.Z)
	f.decimal(&x.Fee, o.Fe)
	x.IsMaker = o.M.v
	f.millis(&x.TransactTime, "T", o.T)
	execDerive(f)
}
