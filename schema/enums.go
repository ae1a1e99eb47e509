package schema

// Venue names a trading venue. The constants are the canonical names.
type Venue string

// Venues with a parser in package normalize.
const (
	VenueBinance  Venue = "binance"
	VenueCoinbase Venue = "coinbase"
	VenueKraken   Venue = "kraken"
	VenueOKX      Venue = "okx"
	VenueBybit    Venue = "bybit"
)

// EventType is the kind of a canonical event. It decides the delivery class:
// [EventType.Critical] events are never dropped, [EventType.Coalescable]
// ones are latest-wins per (venue, symbol, type), the rest are ordered.
type EventType uint8

// Event types.
const (
	EventUnknown      EventType = iota
	EventTrade                  // a trade print (ordered)
	EventBBO                    // best bid/offer, book top (coalescable)
	EventBookSnapshot           // full or top-N book (ordered)
	EventBookUpdate             // book diff (ordered)
	EventTicker                 // rolling statistics (coalescable)
	EventKlineLive              // candle still in progress (coalescable)
	EventKlineClosed            // final candle (ordered)
	EventMarkPrice              // mark/index price (coalescable)
	EventFundingRate            // funding rate (coalescable)
	EventLiquidation            // forced liquidation order (ordered)
	EventExecReport             // execution report for one of our orders (critical)
	EventOrderAck               // venue's answer to an order request (critical)
	EventGap                    // events of a stream were lost (critical control)
	EventConnState              // connection state change (critical control)
	EventControl                // ack, venue error, status, heartbeat (critical control)
	EventBalance                // one asset of the account changed (critical; section Balance)
	EventPosition               // one derivatives position changed (critical; section Position)
	numEventTypes
)

// NumEventTypes is one more than the largest EventType, for tables indexed by type.
const NumEventTypes = int(numEventTypes)

var eventTypeNames = [...]string{
	EventUnknown:      "unknown",
	EventTrade:        "trade",
	EventBBO:          "bbo",
	EventBookSnapshot: "book_snapshot",
	EventBookUpdate:   "book_update",
	EventTicker:       "ticker",
	EventKlineLive:    "kline_live",
	EventKlineClosed:  "kline_closed",
	EventMarkPrice:    "mark_price",
	EventFundingRate:  "funding_rate",
	EventLiquidation:  "liquidation",
	EventExecReport:   "exec_report",
	EventOrderAck:     "order_ack",
	EventGap:          "gap",
	EventConnState:    "conn_state",
	EventControl:      "control",
	EventBalance:      "balance",
	EventPosition:     "position",
}

func (t EventType) String() string {
	if int(t) < len(eventTypeNames) {
		return eventTypeNames[t]
	}
	return "EventType(" + itoa(uint64(t)) + ")"
}

// Coalescable reports whether only the latest event per (venue, symbol,
// type) matters: best bid/offer, ticker, in-progress kline, mark price and
// funding rate.
func (t EventType) Coalescable() bool {
	switch t {
	case EventBBO, EventTicker, EventKlineLive, EventMarkPrice, EventFundingRate:
		return true
	}
	return false
}

// Critical reports whether the event must never be dropped: execution
// reports, order acks, control markers and account updates (balances and
// positions: each says what changed, so losing one leaves the host's view
// of the account wrong until the next change of the same asset).
func (t EventType) Critical() bool {
	switch t {
	case EventExecReport, EventOrderAck, EventGap, EventConnState, EventControl, EventBalance, EventPosition:
		return true
	}
	return false
}

// Side is the side of an order or the aggressor side of a trade.
type Side uint8

// Sides.
const (
	SideUnknown Side = iota
	SideBuy
	SideSell
)

func (s Side) String() string {
	switch s {
	case SideBuy:
		return "buy"
	case SideSell:
		return "sell"
	}
	return "unknown"
}

// OrderType is the type of an order.
type OrderType uint8

// Order types.
const (
	OrderTypeUnknown OrderType = iota
	OrderTypeMarket
	OrderTypeLimit
	OrderTypeLimitMaker // post-only limit
	OrderTypeStopLoss
	OrderTypeStopLossLimit
	OrderTypeTakeProfit
	OrderTypeTakeProfitLimit
	// The types below are reported, never placed: a venue's execution
	// reports name them (OrderRequest.Validate refuses them: no encoder
	// writes them).

	// OrderTypeTrailingStop: a market order once the price reverts a set
	// distance (or rate) from its peak since the order was placed:
	// Binance USDⓈ-M TRAILING_STOP_MARKET, Kraken trailing-stop, Bybit
	// stopOrderType TrailingStop, OKX algo ordType move_order_stop.
	OrderTypeTrailingStop
	// OrderTypeTrailingStopLimit: as OrderTypeTrailingStop, a limit
	// order once triggered (Kraken trailing-stop-limit).
	OrderTypeTrailingStopLimit
	// OrderTypeLiquidation: the venue's forced close of a position
	// (Binance USDⓈ-M and COIN-M LIQUIDATION), not the account's order.
	OrderTypeLiquidation
	// OrderTypeBracket: a limit order with an attached stop trigger that
	// closes it (Coinbase Advanced Trade BRACKET, trigger_bracket_gtc /
	// trigger_bracket_gtd).
	OrderTypeBracket
	// OrderTypeSettlePosition: an order that settles (closes) a margin
	// position (Kraken settle-position).
	OrderTypeSettlePosition
)

var orderTypeNames = [...]string{"unknown", "market", "limit", "limit_maker", "stop_loss", "stop_loss_limit", "take_profit", "take_profit_limit",
	"trailing_stop", "trailing_stop_limit", "liquidation", "bracket", "settle_position"}

func (t OrderType) String() string {
	if int(t) < len(orderTypeNames) {
		return orderTypeNames[t]
	}
	return "unknown"
}

// NeedsPrice reports whether the order type carries a limit price.
func (t OrderType) NeedsPrice() bool {
	switch t {
	case OrderTypeLimit, OrderTypeLimitMaker, OrderTypeStopLossLimit, OrderTypeTakeProfitLimit,
		OrderTypeTrailingStopLimit, OrderTypeBracket:
		return true
	}
	return false
}

// Conditional reports whether the order waits for a trigger before it
// goes to the book: stop-loss, take-profit and trailing-stop types (the
// venues' "algo" or "conditional" orders). A bracket rests on the book
// as a limit order at once: not conditional.
func (t OrderType) Conditional() bool {
	switch t {
	case OrderTypeStopLoss, OrderTypeStopLossLimit, OrderTypeTakeProfit, OrderTypeTakeProfitLimit,
		OrderTypeTrailingStop, OrderTypeTrailingStopLimit:
		return true
	}
	return false
}

// Placeable reports whether an OrderRequest may carry the type: the
// types up to OrderTypeTakeProfitLimit. The others are only reported.
func (t OrderType) Placeable() bool {
	return t != OrderTypeUnknown && t <= OrderTypeTakeProfitLimit
}

// TimeInForce says how long an order stays working.
type TimeInForce uint8

// Times in force.
const (
	TIFUnknown TimeInForce = iota
	TIFGTC                 // good till canceled
	TIFIOC                 // immediate or cancel
	TIFFOK                 // fill or kill
	TIFGTX                 // post only (good till crossing)
)

func (t TimeInForce) String() string {
	switch t {
	case TIFGTC:
		return "GTC"
	case TIFIOC:
		return "IOC"
	case TIFFOK:
		return "FOK"
	case TIFGTX:
		return "GTX"
	}
	return "unknown"
}

// OrderStatus is the state of an order after an execution report.
type OrderStatus uint8

// Order statuses.
const (
	StatusUnknown OrderStatus = iota
	StatusPendingNew
	StatusNew
	StatusPartiallyFilled
	StatusFilled
	StatusPendingCancel
	StatusCanceled
	StatusRejected
	StatusExpired
	StatusExpiredInMatch // expired by self-trade prevention
)

var statusNames = [...]string{"unknown", "pending_new", "new", "partially_filled", "filled", "pending_cancel", "canceled", "rejected", "expired", "expired_in_match"}

func (s OrderStatus) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// Final reports whether no further execution can follow.
func (s OrderStatus) Final() bool {
	switch s {
	case StatusFilled, StatusCanceled, StatusRejected, StatusExpired, StatusExpiredInMatch:
		return true
	}
	return false
}

// ExecType is what happened to an order in one execution report.
type ExecType uint8

// Execution types.
const (
	ExecUnknown ExecType = iota
	ExecNew
	ExecTrade
	ExecCanceled
	ExecReplaced
	ExecRejected
	ExecExpired
	ExecTradePrevention // self-trade prevention
	ExecAmendment
	ExecPendingNew
	ExecPendingCancel
	// ExecTriggered: a conditional order's trigger was reached and the
	// order it places is going (or has gone) to the book; no fill (FIX
	// ExecType L, "Triggered or Activated by System").
	ExecTriggered
	// ExecOrderStatus: the report only states where the order stands
	// (its Status, quantities and prices); nothing happened to it that
	// another report has not told (FIX ExecType I, "Order Status"). A
	// report of an order's fill delivered already carries it, the fill
	// removed; so does a venue's status push that carries no execution
	// (Bybit's order topic beside its execution topic, Kraken's
	// exec_type "filled" and "status", Coinbase's user channel restating
	// an order, Binance USDⓈ-M's finished algo order).
	ExecOrderStatus
	// ExecRestated: the venue changed the order on its own, not at our
	// request (FIX ExecType D, "Restated"): Kraken's exec_type "restated"
	// (the engine changed the order, such as a reduce-only order's
	// quantity) and "iceberg_refill" (a new visible part of an iceberg
	// order). Status and quantities are the order's after the change.
	ExecRestated
)

var execTypeNames = [...]string{"unknown", "new", "trade", "canceled", "replaced", "rejected", "expired", "trade_prevention", "amendment", "pending_new", "pending_cancel", "triggered", "order_status", "restated"}

func (e ExecType) String() string {
	if int(e) < len(execTypeNames) {
		return execTypeNames[e]
	}
	return "unknown"
}

// ConnState is the state of a venue connection.
type ConnState uint8

// Connection states.
const (
	ConnUnknown ConnState = iota
	ConnConnecting
	ConnConnected
	ConnDisconnected
	ConnReconnecting
	ConnRotating
	ConnClosed
)

var connStateNames = [...]string{"unknown", "connecting", "connected", "disconnected", "reconnecting", "rotating", "closed"}

func (s ConnState) String() string {
	if int(s) < len(connStateNames) {
		return connStateNames[s]
	}
	return "unknown"
}

// Lost reports whether s means the connection's data stopped:
// disconnected, reconnecting or closed.
func (s ConnState) Lost() bool {
	return s == ConnDisconnected || s == ConnReconnecting || s == ConnClosed
}

// ControlKind says what an EventControl, EventGap or EventConnState event
// carries.
type ControlKind uint8

// Control kinds.
const (
	ControlNone         ControlKind = iota
	ControlGap                      // events were lost; see Control.Gap*
	ControlConnState                // connection state changed; see Control.State
	ControlSubscribeAck             // the venue confirmed a subscription request
	ControlVenueError               // the venue answered with an error
	ControlHeartbeat                // venue heartbeat or pong
	ControlStatus                   // venue/system status message
	// ControlAccountConfig: an account setting changed; Control.Reason
	// names it and Control.Value holds its new value (Binance USDⓈ-M
	// ACCOUNT_CONFIG_UPDATE: "leverage" of the event's Symbol, or
	// "multi_assets_mode" 1 on, 0 off, for the whole account).
	ControlAccountConfig
)

var controlKindNames = [...]string{"none", "gap", "conn_state", "subscribe_ack", "venue_error", "heartbeat", "status", "account_config"}

func (k ControlKind) String() string {
	if int(k) < len(controlKindNames) {
		return controlKindNames[k]
	}
	return "unknown"
}

// GapSource says where the events a gap marker reports were lost. The
// zero value is the venue, so that a parser that reports a broken sequence
// need not set it.
type GapSource uint8

// Gap sources.
const (
	// GapVenue: the venue's stream skipped: a sequence number jumped, a
	// checksum failed or the connection dropped (set by package normalize
	// and its book keeper).
	GapVenue GapSource = iota
	// GapSubscriberQueue: the venue sent the events but this subscriber
	// fell behind and its dispatcher dropped them, oldest first, from its
	// bounded queue (set by package dispatch). Other subscribers may have
	// them, and a faster handler would too.
	GapSubscriberQueue
	// GapRelay: a relay between processes (such as a message bus bridge)
	// lost them on the way.
	GapRelay
)

var gapSourceNames = [...]string{"venue", "subscriber_queue", "relay"}

func (g GapSource) String() string {
	if int(g) < len(gapSourceNames) {
		return gapSourceNames[g]
	}
	return "unknown"
}

func itoa(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(buf[i:])
}
