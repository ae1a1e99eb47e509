package schema

import "github.com/meltica/meltica/pool"

// OrderAction is what an OrderRequest asks of the venue.
type OrderAction uint8

// Order actions.
const (
	ActionPlace OrderAction = iota
	ActionCancel
)

func (a OrderAction) String() string {
	if a == ActionCancel {
		return "cancel"
	}
	return "place"
}

// OrderRequest is an order the host sends to a venue: filled from a pool,
// encoded by a venue encoder, then Put.
type OrderRequest struct {
	pool.Header       `json:"-"` // the pool's bookkeeping, not data: never encoded
	Action            OrderAction
	Venue             Venue
	Symbol            string // BASE-QUOTE
	ClientOrderID     ID
	VenueOrderID      ID // cancel: the venue's order id, if known
	OrigClientOrderID ID // cancel: the client id of the order to cancel
	Side              Side
	Type              OrderType
	TimeInForce       TimeInForce
	Price             Decimal // limit price; required by limit types
	Qty               Decimal // base quantity
	QuoteQty          Decimal // market orders by quote amount instead of Qty
	StopPrice         Decimal
	ReduceOnly        bool
	PostOnly          bool
	TraceID           uint64
	DecisionID        uint64
	CreatedAt         int64 // Unix ns
}

// Reset zeroes every field but the header.
func (o *OrderRequest) Reset() {
	o.Action, o.Venue, o.Symbol = ActionPlace, "", ""
	o.ClientOrderID, o.VenueOrderID, o.OrigClientOrderID = ID{}, ID{}, ID{}
	o.Side, o.Type, o.TimeInForce = SideUnknown, OrderTypeUnknown, TIFUnknown
	o.Price, o.Qty, o.QuoteQty, o.StopPrice = Decimal{}, Decimal{}, Decimal{}, Decimal{}
	o.ReduceOnly, o.PostOnly = false, false
	o.TraceID, o.DecisionID, o.CreatedAt = 0, 0, 0
}

// Clone returns an independent heap copy that no pool accepts.
func (o *OrderRequest) Clone() *OrderRequest {
	c := &OrderRequest{}
	*c = *o
	c.Header = pool.Header{}
	return c
}

// Validate checks an order: a place needs a symbol, a side, a type (one
// [OrderType.Placeable]: a type only venues report is refused), a
// known time in force (TIFUnknown leaves it to the venue), a positive
// quantity (or quote quantity for market orders) and a positive
// price for limit types; a cancel needs a symbol and the order's id. A
// place is refused a field its type does not use — a price on a market or
// stop-market order, a stop price on an order that is not a stop or
// take-profit, a quote quantity on any but a market order, or a quote
// quantity beside a quantity — because an encoder would drop it and the
// venue execute something other than what was meant.
func (o *OrderRequest) Validate() error {
	if o.Symbol == "" {
		return invalid("OrderRequest", "Symbol", "empty")
	}
	if o.Action == ActionCancel {
		if o.VenueOrderID.IsZero() && o.OrigClientOrderID.IsZero() {
			return invalid("OrderRequest", "OrigClientOrderID", "cancel needs VenueOrderID or OrigClientOrderID")
		}
		return nil
	}
	switch {
	case o.Action != ActionPlace:
		return invalid("OrderRequest", "Action", "unknown")
	case o.Side != SideBuy && o.Side != SideSell:
		return invalid("OrderRequest", "Side", "must be buy or sell")
	case o.Type == OrderTypeUnknown || int(o.Type) >= len(orderTypeNames):
		return invalid("OrderRequest", "Type", "unknown")
	case !o.Type.Placeable():
		return invalid("OrderRequest", "Type", "reported by venues, not placed")
	case o.TimeInForce > TIFGTX: // TIFUnknown: the venue's default
		return invalid("OrderRequest", "TimeInForce", "unknown")
	case o.Qty.Sign() < 0 || o.QuoteQty.Sign() < 0:
		return invalid("OrderRequest", "Qty", "negative")
	case o.Qty.Sign() == 0 && (o.Type != OrderTypeMarket || o.QuoteQty.Sign() <= 0):
		return invalid("OrderRequest", "Qty", "must be positive")
	case o.Type.NeedsPrice() && o.Price.Sign() <= 0:
		return invalid("OrderRequest", "Price", "limit orders need a positive price")
	case !o.Type.NeedsPrice() && o.Price.Sign() != 0:
		return invalid("OrderRequest", "Price", "only limit orders take a price")
	case o.Type.Conditional() && o.StopPrice.Sign() <= 0:
		return invalid("OrderRequest", "StopPrice", "stop and take-profit orders need a positive stop price")
	case !o.Type.Conditional() && o.StopPrice.Sign() != 0:
		return invalid("OrderRequest", "StopPrice", "only stop and take-profit orders take a stop price")
	case o.QuoteQty.Sign() != 0 && o.Type != OrderTypeMarket:
		return invalid("OrderRequest", "QuoteQty", "only market orders take a quote quantity")
	case o.Qty.Sign() > 0 && o.QuoteQty.Sign() > 0:
		return invalid("OrderRequest", "QuoteQty", "a market order takes Qty or QuoteQty, not both")
	}
	return nil
}

// Execution is what a venue reports about one of our orders. It is the
// section of an EventExecReport and the body of an [ExecReport].
type Execution struct {
	ClientOrderID     ID
	VenueOrderID      ID
	OrigClientOrderID ID // the order a cancel or replace refers to
	TradeID           ID // ExecTrade only
	FeeAsset          ID
	Side              Side
	Type              OrderType
	TimeInForce       TimeInForce
	ExecType          ExecType
	Status            OrderStatus
	Price             Decimal // order limit price
	Qty               Decimal // order quantity
	StopPrice         Decimal
	LastFillPrice     Decimal
	LastFillQty       Decimal
	CumFillQty        Decimal
	CumQuoteQty       Decimal
	// RemainingQty is the quantity open for further execution (FIX
	// LeavesQty, tag 151): Qty − CumFillQty while the order works (less
	// what the venue took off without a fill, as Binance's self-trade
	// prevention "A"), and 0 once Status is final (Filled, Canceled,
	// Rejected, Expired, ExpiredInMatch), whatever of Qty never filled.
	// On every venue, streamed or queried; zero too where the venue sizes
	// the order in the quote asset (no base Qty).
	RemainingQty Decimal
	AvgPrice     Decimal
	Fee          Decimal // fee of this fill, in FeeAsset
	IsMaker      bool
	RejectReason string // venue's reason; rare, so a string
	TransactTime int64  // Unix ns
	OrderCreated int64  // Unix ns
	// Derivatives only (zero on spot): the position the order belongs to
	// in hedge mode (PositionBoth in one-way mode), whether it may only
	// reduce that position, and the profit or loss this fill realised, in
	// the settlement asset.
	PositionSide PositionSide
	ReduceOnly   bool
	RealizedPnL  Decimal
	// Reconciled marks a report the SDK rebuilt from the venue's answer to
	// an order query after the stream that should have carried it was
	// lost (see package session): the venue did not stream it to us.
	Reconciled bool
}

// ExecReport is a pooled execution report: the venue, symbol and time of an
// [Execution].
type ExecReport struct {
	pool.Header `json:"-"` // the pool's bookkeeping, not data: never encoded
	Venue       Venue
	Symbol      string
	SeqProvider uint64
	ExchangeTS  int64 // Unix ns
	IngestTS    int64 // Unix ns
	TraceID     uint64
	DecisionID  uint64
	Execution
}

// Reset zeroes every field but the header.
func (r *ExecReport) Reset() {
	r.Venue, r.Symbol = "", ""
	r.SeqProvider, r.ExchangeTS, r.IngestTS, r.TraceID, r.DecisionID = 0, 0, 0, 0, 0
	r.Execution = Execution{}
}

// Clone returns an independent heap copy that no pool accepts.
func (r *ExecReport) Clone() *ExecReport {
	c := &ExecReport{}
	*c = *r
	c.Header = pool.Header{}
	return c
}

// Validate checks that the report names a venue, a symbol, an order and a
// status.
func (r *ExecReport) Validate() error {
	switch {
	case r.Venue == "":
		return invalid("ExecReport", "Venue", "empty")
	case r.Symbol == "":
		return invalid("ExecReport", "Symbol", "empty")
	case r.ClientOrderID.IsZero() && r.VenueOrderID.IsZero():
		return invalid("ExecReport", "ClientOrderID", "no order id")
	case r.Status == StatusUnknown:
		return invalid("ExecReport", "Status", "unknown")
	}
	return nil
}
