package normalize

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/meltica/meltica/schema"
)

// bybitOrderMsg is one element of the private "order" topic (Bybit v5,
// "WebSocket Stream → Private → Order"; topics order, order.spot,
// order.linear, order.inverse, order.option): an order's whole state after
// a change. It carries cumulative fills (cumExecQty, cumExecValue,
// cumExecFee, avgPrice) but not the fill itself, which comes on the
// "execution" topic (see bybitExecMsg).
//
//   - orderId, orderLinkId: VenueOrderID, ClientOrderID.
//   - orderStatus (Bybit v5 "Enums → orderStatus"): New, PartiallyFilled,
//     Filled, Cancelled, Rejected, PartiallyFilledCanceled (Canceled),
//     Deactivated (Canceled: a conditional order canceled before it
//     triggered); Untriggered ("Conditional orders are created") is New,
//     as every other venue reports an accepted conditional order (Binance
//     NEW, Kraken new, Coinbase OPEN): accepted and working, not pending
//     the venue's acknowledgement; Triggered ("instantaneous state for
//     conditional orders from Untriggered to New") is New with
//     ExecTriggered, and so is Active ("order has been triggered and the
//     new active order has been successfully placed. Is the final state
//     of a successful conditional order"); Created (accepted, not yet through the matching
//     engine, in earlier versions of the enum) is PendingNew. Any other
//     word is a *ParseError wrapping ErrUnknownStatus.
//   - ExecType follows the status: New, Canceled, Rejected, Triggered,
//     PendingNew; OrderStatus for PartiallyFilled and Filled, whose fill
//     is the execution topic's ExecTrade report.
//   - orderType Market, Limit, the kind a conditional order's
//     stopOrderType says (bybitType); timeInForce GTC, IOC, FOK, PostOnly
//     and RPI (a LimitMaker order, GTC: bybitTypeTIF).
//   - price, qty, leavesQty, cumExecQty, cumExecValue, avgPrice: Price,
//     Qty, RemainingQty, CumFillQty, CumQuoteQty, AvgPrice ("" is not sent).
//   - updatedTime is ExchangeTS and TransactTime, createdTime OrderCreated.
//   - rejectReason (EC_NoError is none) or cancelType: RejectReason.
//   - derivatives (category linear, inverse, option): positionIdx is the
//     PositionSide (0 Both, 1 Long, 2 Short), reduceOnly ReduceOnly.
//   - a spot market order sized in the quote coin (marketUnit quoteCoin;
//     without one, a market buy: Bybit v5 "Place Order") has a quote
//     amount as qty: Qty and RemainingQty stay zero (no base quantity), as
//     OKX's tgtCcy quote_ccy.
//
// An amendment (Bybit v5 "Trade → Amend Order", WebSocket order.amend:
// qty, price, triggerPrice of a working order changed in place) is pushed
// with the orderStatus the order had (New, PartiallyFilled, Untriggered):
// the topic has no word for it. The parser remembers each working order's
// last status, price, qty, triggerPrice, cumExecQty and updatedTime
// (bybitOrders); a push of the same status and cumExecQty with another
// price, qty or triggerPrice, or a later updatedTime (an amendment of what
// the report does not carry: takeProfit, stopLoss), is ExecAmendment, as
// Binance's AMENDMENT, OKX's
// amendResult, Kraken's "amended" and Coinbase's edit are.
//
// When a cancel meets a fill, Bybit sends Filled twice (Bybit "Order": the
// second with cancelType CancelByUser and rejectReason
// EC_OrigClOrdIDDoesNotExist): two reports with the same cumulative
// values, neither of them a fill.
type bybitOrderMsg struct {
	Symbol       text       `json:"symbol"`
	OrderID      ident      `json:"orderId"`
	OrderLinkID  ident      `json:"orderLinkId"`
	Side         text       `json:"side"`
	OrderType    text       `json:"orderType"`
	StopOrder    text       `json:"stopOrderType"`
	TimeInForce  text       `json:"timeInForce"`
	OrderStatus  text       `json:"orderStatus"`
	Price        optNum     `json:"price"`
	Qty          optNum     `json:"qty"`
	TriggerPrice optNum     `json:"triggerPrice"`
	TriggerDir   integer    `json:"triggerDirection"`
	LastOnCreate optNum     `json:"lastPriceOnCreated"`
	LeavesQty    optNum     `json:"leavesQty"`
	CumExecQty   optNum     `json:"cumExecQty"`
	CumExecValue optNum     `json:"cumExecValue"`
	AvgPrice     optNum     `json:"avgPrice"`
	RejectReason reason     `json:"rejectReason"`
	CancelType   text       `json:"cancelType"`
	CreatedTime  optInteger `json:"createdTime"`
	UpdatedTime  optInteger `json:"updatedTime"`
	Category     text       `json:"category"`
	PositionIdx  integer    `json:"positionIdx"`
	ReduceOnly   flag       `json:"reduceOnly"`
	MarketUnit   text       `json:"marketUnit"`
}

var (
	bybitStatuses = map[string]schema.OrderStatus{
		"New": schema.StatusNew, "PartiallyFilled": schema.StatusPartiallyFilled, "Filled": schema.StatusFilled,
		"Cancelled": schema.StatusCanceled, "PartiallyFilledCanceled": schema.StatusCanceled,
		"Deactivated": schema.StatusCanceled, "Rejected": schema.StatusRejected,
		"Untriggered": schema.StatusNew, "Triggered": schema.StatusNew, "Active": schema.StatusNew,
		"Created": schema.StatusPendingNew,
	}
	// bybitStatusExecs: the order topic carries no fill (the execution
	// topic's), so its PartiallyFilled and Filled only tell where the
	// order stands (Bybit v5 "Order").
	bybitStatusExecs = map[string]schema.ExecType{
		"New": schema.ExecNew, "PartiallyFilled": schema.ExecOrderStatus, "Filled": schema.ExecOrderStatus, "Cancelled": schema.ExecCanceled, "PartiallyFilledCanceled": schema.ExecCanceled,
		"Deactivated": schema.ExecCanceled, "Rejected": schema.ExecRejected,
		"Untriggered": schema.ExecNew, "Triggered": schema.ExecTriggered, "Active": schema.ExecTriggered,
		"Created": schema.ExecPendingNew,
	}
	bybitOrderTypes = map[string]schema.OrderType{"Market": schema.OrderTypeMarket, "Limit": schema.OrderTypeLimit}
	bybitTIFs       = map[string]schema.TimeInForce{
		"GTC": schema.TIFGTC, "IOC": schema.TIFIOC, "FOK": schema.TIFFOK, "PostOnly": schema.TIFGTC, "RPI": schema.TIFGTC,
	}
	// bybitExecTypes are the execution topic's execType words (Bybit v5
	// "Enums → execType") that execute one of our orders: those that
	// fill it are ExecTrade — Trade, AdlTrade ("Auto-Deleveraging"),
	// BustTrade ("Takeover liquidation"), Delivery ("USDC futures
	// delivery; Position closed by contract delisted"), Settle ("Inverse
	// futures settlement; Position closed due to delisting"), BlockTrade,
	// MovePosition, FutureSpread ("Spread leg execution"): each changes
	// the position by a quantity at a price. UNKNOWN ("May be returned by
	// a classic account") says not what it executed: ExecUnknown, no fill
	// claimed (the order topic's cumulative values tell where the order
	// stands). The words of no order are bybitAccountExecs. A word named
	// in neither is a *ParseError wrapping ErrUnknownExecType.
	//
	// A row of these words that names no order (orderId "") is refused
	// (ErrMissingField) and announced as a lost report, never skipped as
	// Funding is: Bybit documents every one of them as a position changed
	// by a quantity at a price (a takeover liquidation, a delivery, a
	// settlement at delisting), which a host must learn of — and
	// reconcile, as the marker asks — even when the row cannot be matched
	// to an order; delivered, a report of no order would match none. The
	// docs (v5 "Enums → execType", "Execution" topic) do not say such rows
	// come without an order id, and no public tracker reports one (the
	// reports of orderId "" are Funding's, JKorf/Bybit.Net#296).
	bybitExecTypes = map[string]schema.ExecType{
		"Trade": schema.ExecTrade, "AdlTrade": schema.ExecTrade, "BustTrade": schema.ExecTrade,
		"BlockTrade": schema.ExecTrade, "MovePosition": schema.ExecTrade, "Delivery": schema.ExecTrade,
		"Settle": schema.ExecTrade, "FutureSpread": schema.ExecTrade,
		"UNKNOWN": schema.ExecUnknown, // "May be returned by a classic account": no fill claimed
	}
	// bybitAccountExecs are the execType words of rows that execute no
	// order (Bybit v5 "Enums → execType"): Funding ("Funding fee", charged
	// or paid on a position: execQty is the position's size, execPrice
	// the mark price, orderId ""), Dividend, and the settlements of a
	// corporate action on a tokenised stock (ForwardSplitSettle,
	// ReverseSplitSettle, and CorporateAction, which they replaced). They
	// are account events, not execution reports: the wallet topic carries
	// their effect on the balance (EventBalance) and the position topic
	// theirs on a position, as Binance USDⓈ-M's ACCOUNT_UPDATE (reason
	// FUNDING_FEE) and OKX's account channel do — never a report a host
	// could take for a fill, nor, orderId "" refused, a lost report that
	// sends it to reconcile every order at each funding time. Skipped and
	// counted in Stats.Ignored.
	bybitAccountExecs = map[string]bool{
		"Funding": true, "Dividend": true, "ForwardSplitSettle": true, "ReverseSplitSettle": true, "CorporateAction": true,
	}
)

func (m *bybitOrderMsg) fill(f *filler) {
	x := f.ev.UseExec()
	f.needID("orderId", m.OrderID)
	f.need("orderStatus", m.OrderStatus.ok)
	f.symbol("symbol", &m.Symbol)
	f.id(&x.VenueOrderID, m.OrderID)
	f.id(&x.ClientOrderID, m.OrderLinkID)
	f.side(&x.Side, "side", &m.Side)
	f.status(&x.Status, "orderStatus", bybitStatuses, &m.OrderStatus, false) // no fill here: the execution topic's
	x.ExecType = enum(bybitStatusExecs, &m.OrderStatus)
	x.Type, x.TimeInForce = bybitTypeTIF(&m.OrderType, &m.StopOrder, &m.TimeInForce)
	x.Type = m.tpslKind(x.Type, x.Side)
	quote := bybitSpotQuoteSized(&m.Category, &m.OrderType, &m.Side, &m.MarketUnit)
	f.price(&x.Price, "price", m.Price.num)
	if !quote {
		f.price(&x.Qty, "qty", m.Qty.num)
	}
	f.price(&x.StopPrice, "triggerPrice", m.TriggerPrice.num)
	f.price(&x.CumFillQty, "cumExecQty", m.CumExecQty.num)
	f.price(&x.CumQuoteQty, "cumExecValue", m.CumExecValue.num)
	f.price(&x.AvgPrice, "avgPrice", m.AvgPrice.num)
	f.millis(&f.main, "updatedTime", m.UpdatedTime.integer)
	f.millis(&x.OrderCreated, "createdTime", m.CreatedTime.integer)
	x.TransactTime = f.main
	switch {
	case !m.RejectReason.empty() && string(m.RejectReason.bytes()) != "EC_NoError":
		x.RejectReason = f.p.reason(&m.RejectReason)
	case m.CancelType.ok && string(m.CancelType.bytes()) != "UNKNOWN":
		x.RejectReason = f.p.intern(m.CancelType.bytes())
	}
	if c := string(m.Category.bytes()); c != "" && c != "spot" { // derivatives: the position the order works on
		if m.PositionIdx.v >= 0 && m.PositionIdx.v <= 2 { // another number: Unknown, never a dropped report
			f.bybitPositionIdx(&x.PositionSide, m.PositionIdx)
		}
		x.ReduceOnly = m.ReduceOnly.v
	}
	execDerive(f)
	if !quote { // leavesQty of a quote-sized order: of which unit, Bybit does not say
		f.execRemaining("leavesQty", m.LeavesQty.num)
	}
	if f.err == nil {
		if st, ok := f.p.state.(*bybitState); ok {
			st.orders.report(f, x, string(m.OrderStatus.bytes()) == "Triggered")
		}
	}
}

// maxBybitOrders bounds the working orders a Bybit parser remembers; past
// it, those no report of the newest connection named are forgotten (they
// ended while no connection was up), and a new order beyond that is not
// remembered (its amendments are then reported with its status's
// ExecType, New or OrderStatus).
const maxBybitOrders = 4096

// bybitOrders is what the "order" topic last said of each working order.
// The key is the order's id as a value (schema.ID): remembering an order
// allocates nothing but the map's growth.
type bybitOrders struct {
	newest uint64
	m      map[schema.ID]bybitWorking
	// ended: the client order ids and types of the last maxBybitEnded
	// orders that reached a final status, oldest overwritten first, for a
	// fill pushed after its order's final report (clientOf, typeOf).
	ended     [maxBybitEnded]bybitEnded
	endedNext int
	pending   bybitPending // the report being read (commit)
}

// maxBybitEnded bounds the ended orders whose client ids a Bybit parser
// remembers (about 24 KiB).
const maxBybitEnded = 256

// bybitEnded names an order that ended by its venue and client ids, and
// the type the order topic gave it.
type bybitEnded struct {
	order, client schema.ID
	typ           schema.OrderType
}

// clientOf returns the client order id (orderLinkId) the order topic gave
// the order, working or among the last that ended; the zero ID when it
// named none or the order is not known.
func (o *bybitOrders) clientOf(order schema.ID) schema.ID {
	w, _ := o.known(order)
	return w.client
}

// typeOf returns the order type the order topic gave the order, working or
// among the last that ended; false when the order is not known.
func (o *bybitOrders) typeOf(order schema.ID) (schema.OrderType, bool) {
	w, ok := o.known(order)
	return w.typ, ok
}

// known returns what the order topic said of the order, working or among
// the last that ended (client and typ only); false when it is not known.
func (o *bybitOrders) known(order schema.ID) (bybitWorking, bool) {
	if w, ok := o.m[order]; ok {
		return w, true
	}
	for i := range o.ended {
		if e := &o.ended[i]; e.order == order && !order.IsZero() {
			return bybitWorking{client: e.client, typ: e.typ}, true
		}
	}
	return bybitWorking{}, false
}

// bybitWorking is a working order's last report: an amendment changes
// price, qty or trigger under the same status and ExecType, without a
// fill (cum).
type bybitWorking struct {
	status                   schema.OrderStatus
	exec                     schema.ExecType
	price, qty, trigger, cum schema.Decimal
	ts                       int64 // updatedTime, Unix ns
	conn                     uint64
	client                   schema.ID        // orderLinkId: a fast maker fill's (clientOf)
	typ                      schema.OrderType // a fast or tpslOrder fill's (typeOf): those pushes name no type or no trigger direction
	// triggered: the report's word was Triggered; the next report of
	// another word (Active, the new active order placed) completes the
	// trigger, no amendment, though its status and exec type are the same.
	triggered bool
}

// report makes x, a report of the order topic, an amendment when it
// changes a working order's price, qty or triggerPrice, and holds the
// order, remembered until its final status once the report is accepted
// (commit: a report refused after it is read, its frame's creationTime
// out of range, changes nothing). triggered says the report's orderStatus
// was Triggered: the order's next report of another word (Active) is the
// trigger completed, never an amendment.
func (o *bybitOrders) report(f *filler, x *schema.Execution, triggered bool) {
	now := bybitWorking{status: x.Status, exec: x.ExecType, price: x.Price, qty: x.Qty, trigger: x.StopPrice, cum: x.CumFillQty,
		ts: x.TransactTime, conn: f.p.raw.ConnID, client: x.ClientOrderID, typ: x.Type, triggered: triggered}
	o.pending, f.memo = bybitPending{id: x.VenueOrderID, now: now}, o
	was, known := o.m[x.VenueOrderID]
	if !x.Status.Final() && known && was.status == now.status && was.exec == now.exec && was.cum.Equal(now.cum) && (!was.triggered || now.triggered) &&
		(!was.price.Equal(now.price) || !was.qty.Equal(now.qty) || !was.trigger.Equal(now.trigger) || now.ts > was.ts) {
		x.ExecType = schema.ExecAmendment
	}
}

// bybitPending is the order report whose change commit makes.
type bybitPending struct {
	id  schema.ID
	now bybitWorking
}

func (o *bybitOrders) commit() {
	id, now := o.pending.id, o.pending.now
	o.pending = bybitPending{}
	o.newest = max(o.newest, now.conn)
	_, known := o.m[id]
	if now.status.Final() {
		if known {
			delete(o.m, id)
		}
		if !now.client.IsZero() || now.typ != schema.OrderTypeUnknown {
			o.ended[o.endedNext] = bybitEnded{order: id, client: now.client, typ: now.typ}
			o.endedNext = (o.endedNext + 1) % maxBybitEnded
		}
		return
	}
	switch {
	case known:
	case o.m == nil:
		o.m = make(map[schema.ID]bybitWorking, 64)
	case len(o.m) >= maxBybitOrders && !o.sweep():
		return
	}
	o.m[id] = now
}

// sweep forgets the orders no report of the newest connection named and
// reports whether there is room for another.
func (o *bybitOrders) sweep() bool {
	for id, w := range o.m {
		if w.conn < o.newest {
			delete(o.m, id)
		}
	}
	return len(o.m) < maxBybitOrders
}

// bybitSpotQuoteSized reports whether an order of the order or execution
// topic is a spot one sized in the quote coin (see bybitQuoteSized; the
// pushes carry marketUnit "" for Bybit's default, ccxt/ccxt#29602); a
// push without category is taken for spot, as the topics order.spot and
// execution.spot send it.
func bybitSpotQuoteSized(category, orderType, side, unit *text) bool {
	if c := string(category.bytes()); c != "" && c != "spot" {
		return false
	}
	return bybitQuoteSized(orderType, side, unit)
}

// bybitExecMsg is one element of the private "execution" topic (Bybit v5,
// "WebSocket Stream → Private → Execution"; topics execution,
// execution.spot, …): one fill of one of our orders, several per message
// when an order matched several makers. Each becomes an ExecTrade report.
//
//   - execId, execPrice, execQty, execTime: TradeID, LastFillPrice,
//     LastFillQty, TransactTime and ExchangeTS.
//   - execFee, feeCurrency: Fee (Bybit's sign: positive is paid, negative a
//     maker rebate) and FeeAsset.
//   - orderPrice, orderQty, leavesQty: Price, Qty, RemainingQty; CumFillQty
//     is orderQty − leavesQty, and the status PartiallyFilled, or Filled
//     when leavesQty is 0. A spot market order sized in the quote coin
//     (marketUnit quoteCoin; without one, a market buy) has a quote
//     amount as orderQty: Qty, RemainingQty and CumFillQty stay zero.
//   - execPnl ("Profit and Loss for each close position execution"):
//     RealizedPnL.
//   - isMaker: IsMaker. execType (Bybit v5 "Enums → execType"): Trade,
//     AdlTrade, BustTrade, BlockTrade, MovePosition, Delivery, Settle,
//     FutureSpread are fills (ExecTrade); UNKNOWN ("May be returned by a
//     classic account") is ExecUnknown with its fee and no fill
//     (LastFillQty, LastFillPrice, CumFillQty, RemainingQty and the
//     status stay zero). Funding, Dividend and the corporate-action
//     settlements execute no order (their orderId is ""; a funding row's
//     execQty is the position's size, its execPrice the mark price): no
//     report, counted in Stats.Ignored (bybitAccountExecs). Any other
//     word is a *ParseError wrapping ErrUnknownExecType (the order
//     topic's cumulative values still tell where the order stands). A
//     fill whose execQty is not positive is a *ParseError wrapping
//     ErrBadValue.
//
// The "execution.fast" topic and its categorised forms
// (execution.fast.linear, .inverse, .spot; Bybit v5 "Fast Execution":
// perpetuals, futures and spot, no options, execType Trade only) send
// fewer fields: category, symbol, orderId, isMaker, orderLinkId, execId,
// execPrice, execQty, side, execTime and seq — no leavesQty, order price,
// quantity, type or fee. Its reports are ExecTrade with the cross sequence
// seq as SeqProvider and no status (StatusUnknown): the order topic says
// where the order stands. The status is not derived from what the order
// topic said of the order (its qty and cumExecQty), because neither
// tells which fills it already counts: Bybit documents no order between
// its topics (the fast topic is pushed ahead of the others, but an order
// push may come first), so adding the fast fill to the order topic's
// cumulative could count a fill twice and report Filled for an order
// that works on; and an amendment of qty in flight (its order push not
// here yet) would make either PartiallyFilled or Filled a guess. A
// wrong status is worse than none: a strategy waiting for Filled acts on
// it. The full execution topic's report of the same fill (leavesQty)
// gives the status, delivered as ExecOrderStatus once the fast push had
// the fill. Its orderLinkId is "" for a maker's fill
// ("maker trade is always \"\"", also for a maker order turned taker by
// an amendment): ClientOrderID is then the orderLinkId the order topic
// last gave that orderId — while the order works, and for the last 256
// orders that ended (a fill pushed after its order's Filled report) —
// so a host matching fills by client id finds its order. Its Type, which
// the push does not say, is likewise the type the order topic last gave
// that orderId (OrderTypeUnknown when the parser has no report of the
// order: common for an order's first fill, the fast topic pushed ahead
// of the order's first report; the type is then on that report, and on
// the execution topic's report of the same fill, not on the fast fill
// delivered). A fast fill of
// an order the parser has no order-topic report of (the order topic not
// subscribed, or the fill first on a new connection) has an empty
// ClientOrderID and VenueOrderID names the order: the order topic's
// reports of it, and the execution topic's report of the same fill (its
// status and fee, the fill itself delivered once), carry both ids. Beside
// the execution topic, each fill comes twice: repeatFill delivers it
// once, and the full report's status and fee.
type bybitExecMsg struct {
	Symbol      text       `json:"symbol"`
	OrderID     ident      `json:"orderId"`
	OrderLinkID ident      `json:"orderLinkId"`
	Side        text       `json:"side"`
	OrderType   text       `json:"orderType"`
	StopOrder   text       `json:"stopOrderType"`
	OrderPrice  optNum     `json:"orderPrice"`
	OrderQty    optNum     `json:"orderQty"`
	LeavesQty   optNum     `json:"leavesQty"`
	ExecID      ident      `json:"execId"`
	ExecPrice   optNum     `json:"execPrice"`
	ExecQty     optNum     `json:"execQty"`
	ExecFee     optNum     `json:"execFee"`
	FeeCurrency ident      `json:"feeCurrency"`
	ExecType    text       `json:"execType"`
	ExecTime    optInteger `json:"execTime"`
	IsMaker     flag       `json:"isMaker"`
	ExecPnl     optNum     `json:"execPnl"`
	Seq         integer    `json:"seq"` // execution.fast
	Category    text       `json:"category"`
	MarketUnit  text       `json:"marketUnit"`
}

func (m *bybitExecMsg) fill(f *filler) {
	x := f.ev.UseExec()
	fast := bytes.HasPrefix(f.p.raw.Stream, []byte("execution.fast"))
	if !fast && bybitAccountExecs[string(m.ExecType.bytes())] {
		f.ignore = true // no order executed: an account event (bybitAccountExecs)
		return
	}
	f.needID("orderId", m.OrderID)
	f.need("execQty", m.ExecQty.ok)
	f.need("leavesQty", m.LeavesQty.ok || fast)
	f.need("symbol", m.Symbol.ok)
	f.need("execType", m.ExecType.ok || fast) // absent, a fill would pass as no fill
	f.symbol("symbol", &m.Symbol)
	f.id(&x.VenueOrderID, m.OrderID)
	f.id(&x.ClientOrderID, m.OrderLinkID)
	if x.ClientOrderID.IsZero() { // a maker's fill on execution.fast: the order topic named it
		if st, ok := f.p.state.(*bybitState); ok {
			x.ClientOrderID = st.orders.clientOf(x.VenueOrderID)
		}
	}
	f.id(&x.TradeID, m.ExecID)
	f.side(&x.Side, "side", &m.Side)
	x.Type = bybitType(&m.OrderType, &m.StopOrder)
	// execution.fast names no type, and a tpslOrder's word no trigger
	// direction (tpslKind): the order topic's type of the order
	if fast || string(m.StopOrder.bytes()) == "tpslOrder" {
		if st, ok := f.p.state.(*bybitState); ok {
			if typ, known := st.orders.typeOf(x.VenueOrderID); known {
				x.Type = typ
			}
		}
	}
	if !fast {
		x.ExecType = f.execType("execType", bybitExecTypes, &m.ExecType)
	}
	if fast {
		x.ExecType = schema.ExecTrade
		f.seq(&f.ev.SeqProvider, m.Seq)
	}
	quote := bybitSpotQuoteSized(&m.Category, &m.OrderType, &m.Side, &m.MarketUnit)
	f.price(&x.Price, "orderPrice", m.OrderPrice.num)
	if !quote {
		f.price(&x.Qty, "orderQty", m.OrderQty.num)
	}
	f.decimal(&x.Fee, m.ExecFee.num)
	f.id(&x.FeeAsset, m.FeeCurrency)
	f.millis(&f.main, "execTime", m.ExecTime.integer)
	x.TransactTime = f.main
	if x.ExecType != schema.ExecTrade {
		return // UNKNOWN: what was executed is not said, no fill claimed
	}
	f.price(&x.LastFillPrice, "execPrice", m.ExecPrice.num)
	f.price(&x.LastFillQty, "execQty", m.ExecQty.num)
	f.needFill("execQty")
	f.needFillPrice("execPrice", m.ExecPrice.num)
	x.IsMaker = m.IsMaker.v
	f.decimal(&x.RealizedPnL, m.ExecPnl.num)
	if !m.LeavesQty.ok {
		return // execution.fast: no status
	}
	if !quote {
		f.execRemaining("leavesQty", m.LeavesQty.num)
	}
	x.Status = schema.StatusPartiallyFilled
	if m.LeavesQty.v.Sign() == 0 {
		x.Status = schema.StatusFilled
	}
	if x.Qty.Sign() > 0 && x.RemainingQty.Cmp(x.Qty) <= 0 {
		if cum, err := x.Qty.Sub(x.RemainingQty); err == nil {
			x.CumFillQty = cum
		}
	}
}

// BybitAuth returns the auth request that opens Bybit's private topics
// (Bybit v5, "WebSocket Connect → Authentication"): {"req_id","op":"auth",
// "args":[apiKey, expires, signature]}, expires a Unix time in
// milliseconds after which the request is refused, signature the hex
// HMAC-SHA256 of "GET/realtime" + expires, made by creds' signer
// ([NewHMACSigner] with the API secret). expires must be later than the
// venue's clock: make the request anew, with the venue's time plus a few
// seconds, for every connection. The answer ({"op":"auth","success":true})
// is a schema.ControlSubscribeAck carrying reqID, or a
// schema.ControlVenueError with its ret_msg.
func BybitAuth(creds *Credentials, reqID uint64, expires time.Time) ([]byte, error) {
	args, err := bybitAuthArgs(creds, expires)
	if err != nil {
		return nil, err
	}
	return marshalRequest(&struct {
		ReqID string `json:"req_id"`
		Op    string `json:"op"`
		Args  []any  `json:"args"`
	}{strconv.FormatUint(reqID, 10), "auth", args})
}

// bybitAuthArgs are an auth request's args: [apiKey, expires, signature].
func bybitAuthArgs(creds *Credentials, expires time.Time) ([]any, error) {
	if creds == nil || creds.signer == nil || creds.apiKey == "" {
		return nil, fmt.Errorf("%w: Bybit auth needs credentials with a key and a signer", ErrBadValue)
	}
	exp := expires.UnixMilli()
	sig, err := creds.signer.AppendSignature(nil, []byte("GET/realtime"+strconv.FormatInt(exp, 10)))
	if err != nil {
		return nil, fmt.Errorf("normalize: signing Bybit auth: %w", err)
	}
	return []any{creds.apiKey, exp, string(sig)}, nil
}

// bybitTypeTIF returns the order type and time in force of a Bybit
// order's orderType, stopOrderType (bybitType) and timeInForce (Bybit v5
// "Enums → timeInForce": GTC, IOC, FOK, PostOnly, RPI). A Limit order of
// PostOnly or RPI ("Retail Price Improvement": post-only, "act as maker
// orders, adding liquidity") is a LimitMaker, GTC: it rests until
// canceled and never takes. Another word is Unknown.
func bybitTypeTIF(orderType, stop, tif *text) (schema.OrderType, schema.TimeInForce) {
	typ := bybitType(orderType, stop)
	if w := string(tif.bytes()); (w == "PostOnly" || w == "RPI") && typ == schema.OrderTypeLimit {
		typ = schema.OrderTypeLimitMaker
	}
	return typ, enum(bybitTIFs, tif)
}

// bybitStopTypes are the kinds of Bybit's conditional orders (Bybit v5
// "Enums → stopOrderType"), each as its Market and its Limit order:
// Stop ("conditional order" at a trigger price), StopLoss and
// PartialStopLoss (of the whole or part of a position), tpslOrder (spot
// TP/SL order: one trigger; typed by its trigger's direction where the
// report has one, tpslKind; the execution topic carries none, so a fill
// takes the type the order topic gave its order, a stop when the order
// is not known) as stops; TakeProfit and PartialTakeProfit as
// take-profits; TrailingStop (at market: Bybit's trailing stop places a
// market order). OcoOrder and BidirectionalTpslOrder (two legs) and
// MmRateClose (a close at a maintenance margin rate) have no one
// canonical kind: the placed order's orderType stands, as it does for
// UNKNOWN and "" (not a conditional order).
var bybitStopTypes = map[string][2]schema.OrderType{
	"Stop": {schema.OrderTypeStopLoss, schema.OrderTypeStopLossLimit}, "StopLoss": {schema.OrderTypeStopLoss, schema.OrderTypeStopLossLimit},
	"PartialStopLoss": {schema.OrderTypeStopLoss, schema.OrderTypeStopLossLimit}, "tpslOrder": {schema.OrderTypeStopLoss, schema.OrderTypeStopLossLimit},
	"TakeProfit":        {schema.OrderTypeTakeProfit, schema.OrderTypeTakeProfitLimit},
	"PartialTakeProfit": {schema.OrderTypeTakeProfit, schema.OrderTypeTakeProfitLimit},
	"TrailingStop":      {schema.OrderTypeTrailingStop, schema.OrderTypeTrailingStop},
}

// tpslKind types a spot TP/SL order (stopOrderType tpslOrder, typed a
// stop by bybitType: its word says no kind) by the way it triggers:
// triggerDirection (Bybit v5 "Place Order"/"Order": 1 "triggered when
// market price rises to triggerPrice", 2 when it falls) or, without one,
// triggerPrice against lastPriceOnCreated (the last price when the order
// was placed). A sell triggered by a rise, or a buy by a fall, takes
// profit; the other way round it stops a loss. With neither, typ (a stop)
// stands.
func (m *bybitOrderMsg) tpslKind(typ schema.OrderType, side schema.Side) schema.OrderType {
	if string(m.StopOrder.bytes()) != "tpslOrder" || (typ != schema.OrderTypeStopLoss && typ != schema.OrderTypeStopLossLimit) {
		return typ
	}
	var rises bool
	switch {
	case m.TriggerDir.ok && m.TriggerDir.v == 1:
		rises = true
	case m.TriggerDir.ok && m.TriggerDir.v == 2:
	case m.TriggerPrice.ok && m.LastOnCreate.ok && m.LastOnCreate.v.Sign() > 0 && m.TriggerPrice.v.Cmp(m.LastOnCreate.v) != 0:
		rises = m.TriggerPrice.v.Cmp(m.LastOnCreate.v) > 0
	default:
		return typ
	}
	if rises != (side == schema.SideSell) {
		return typ
	}
	if typ == schema.OrderTypeStopLoss {
		return schema.OrderTypeTakeProfit
	}
	return schema.OrderTypeTakeProfitLimit
}

// bybitType is the order type of a Bybit orderType (Market, Limit) and
// stopOrderType (bybitStopTypes).
func bybitType(orderType, stop *text) schema.OrderType {
	typ := enum(bybitOrderTypes, orderType)
	if k, ok := bybitStopTypes[string(stop.bytes())]; ok {
		switch typ {
		case schema.OrderTypeMarket:
			return k[0]
		case schema.OrderTypeLimit:
			return k[1]
		}
	}
	return typ
}
