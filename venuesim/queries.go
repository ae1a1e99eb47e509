package venuesim

import (
	"cmp"
	"errors"
	"slices"
	"strconv"

	"github.com/goccy/go-json/jsontext"
)

// simTrade is one fill of an order, as myTrades answers it.
type simTrade struct {
	id      uint64
	px, qty int64
	time    int64 // ms
	maker   bool
	o       *order // set when listed
}

// remember records an accepted order for the queries (caller holds the
// market lock). Orders are kept for the venue's life: a test venue's.
func (v *Venue) remember(o *order, now int64) {
	if v.hist == nil {
		v.hist = map[uint64]*order{}
	}
	o.status, o.updated = "NEW", now
	v.hist[o.id] = o
}

// FailQueries makes the WS-API refuse its next n order.status, myTrades and
// openOrders.status requests as Binance does past its request-weight
// limit: status 429, code -1003. n ≤ 0 stops refusing.
func (v *Venue) FailQueries(n int) { v.queryFails.Store(int64(max(n, 0))) }

// query serves order.status, myTrades and openOrders.status from the
// matching state (spot WS-API "Query order", "Account trade history",
// "Current open orders"), signed like orders.
func (c *conn) query(req apiRequest) {
	c.v.uds.run(&c.v.uds.queriesHeld, func() { c.answerQuery(req) })
}

// HoldQueries, with hold true, holds every order.status, myTrades and
// openOrders.status request from now on, unanswered; with hold false, it
// answers the held ones, in order, from the state then. It returns how
// many were waiting. A test uses it to let the user-data stream deliver
// something before a query sees it.
func (v *Venue) HoldQueries(hold bool) int { return v.uds.set(&v.uds.queriesHeld, hold) }

// HeldQueries returns how many queries HoldQueries is holding now.
func (v *Venue) HeldQueries() int { return v.uds.waiting(&v.uds.queriesHeld) }

// ResendFill sends the latest fill's executionReport of order id again
// to the account's user-data subscription, as a venue that delivers at
// least once might after a reconnect (Binance does not replay: this is
// for a client's deduplication).
func (v *Venue) ResendFill(id uint64) error {
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	o := v.hist[id]
	if o == nil || len(o.trades) == 0 {
		return ErrUnknownOrder
	}
	t := o.trades[len(o.trades)-1]
	o.conn = v.userConn(o.conn)
	o.conn.execReport(o, t.time, "TRADE", o.status, "NONE", t.px, t.qty)
	return nil
}

func (c *conn) answerQuery(req apiRequest) {
	v := c.v
	v.queries.Add(1)
	p := req.Params
	if code, msg := c.checkSignature(p); code != 0 {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, code, msg))
		return
	}
	for {
		n := v.queryFails.Load()
		if n <= 0 {
			break
		}
		if v.queryFails.CompareAndSwap(n, n-1) {
			c.limited(req, req.ID, c.v.now())
			return
		}
	}
	if code, msg := checkIDs(p); code != 0 {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, code, msg))
		return
	}
	sym := param(p, "symbol")
	m := v.mkt
	var s *symbolState
	if sym != "" || req.Method != "openOrders.status" {
		var ok bool
		if s, ok = m.byName[sym]; !ok {
			c.answer(req, apiError(req.ID, 400, -1121, "Invalid symbol."))
			return
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch req.Method {
	case "openOrders.status":
		var res []jsontext.Value
		for _, x := range m.symbols {
			if s != nil && x != s {
				continue
			}
			for _, o := range x.orders {
				res = append(res, orderStatus(o))
			}
		}
		c.answer(req, apiResult(req.ID, marshal(nonNil(res))))
	case "order.status":
		o := v.findOrder(s, p)
		if o == nil {
			c.answer(req, apiError(req.ID, 400, -2013, "Order does not exist."))
			return
		}
		c.answer(req, apiResult(req.ID, orderStatus(o)))
	case "myTrades":
		c.answer(req, apiResult(req.ID, marshal(nonNil(v.myTrades(s, p)))))
	case "myPreventedMatches":
		res, ok := s.myPreventedMatches(p)
		if !ok {
			v.rejected.Add(1)
			c.answer(req, apiError(req.ID, 400, -1128, "Combination of optional parameters invalid."))
			return
		}
		c.answer(req, apiResult(req.ID, marshal(nonNil(res))))
	}
}

func nonNil(v []jsontext.Value) []jsontext.Value {
	if v == nil {
		return []jsontext.Value{}
	}
	return v
}

// findOrder finds the order p names by orderId or origClientOrderId.
func (v *Venue) findOrder(s *symbolState, p map[string]jsontext.Value) *order {
	if id, sent := orderIDParam(p); sent {
		if o := v.hist[id]; id != 0 && o != nil && o.symbol == s && namedBy(o, id, param(p, "origClientOrderId")) {
			return o
		}
		return nil
	}
	if cid := param(p, "origClientOrderId"); cid != "" {
		return v.latest(func(o *order) bool { return o.symbol == s && o.clientID == cid })
	}
	return nil
}

// orderIDParam is the orderId parameter and whether one was sent; an id
// sent that names no order (0, or one past uint64, which checkIDs lets
// through as '^[0-9]{1,20}$') is 0 and sent: it is searched first all the
// same, and found nowhere, whatever origClientOrderId names beside it.
func orderIDParam(p map[string]jsontext.Value) (id uint64, sent bool) {
	s := param(p, "orderId")
	if s == "" {
		return 0, false
	}
	id, _ = strconv.ParseUint(s, 10, 64)
	return id, true
}

// namedBy reports whether the order is the one an orderId (0: none) and
// an origClientOrderId ("": none) name. With both, the orderId is searched
// first, then the client id checked against that order (WebSocket API
// "Cancel order", "Query order": "If both conditions are not met the
// request will be rejected").
func namedBy(o *order, id uint64, cid string) bool {
	if id != 0 {
		return o.id == id && (cid == "" || o.clientID == cid)
	}
	return cid != "" && o.clientID == cid
}

// latest is the most recent order (highest id) that match accepts: a
// client order id is unique among open orders only, so a done order's
// may have been used again (caller holds the market lock).
func (v *Venue) latest(match func(*order) bool) *order {
	var found *order
	for _, o := range v.hist {
		if match(o) && (found == nil || o.id > found.id) {
			found = o
		}
	}
	return found
}

// myTrades lists the symbol's fills (of one order with orderId), by trade
// id, from fromId, at most limit (default 500, at most 1000).
func (v *Venue) myTrades(s *symbolState, p map[string]jsontext.Value) []jsontext.Value {
	orderID, byOrder := orderIDParam(p)
	if byOrder && orderID == 0 {
		return []jsontext.Value{} // an id no order has: no trade
	}
	fromID, _ := strconv.ParseUint(param(p, "fromId"), 10, 64)
	limit := parseLimit(param(p, "limit"), 500, 1000)
	var trades []simTrade
	for _, o := range v.hist {
		if o.symbol != s || (byOrder && o.id != orderID) {
			continue
		}
		for _, t := range o.trades {
			if t.id >= fromID {
				t.o = o
				trades = append(trades, t)
			}
		}
	}
	slices.SortFunc(trades, func(a, b simTrade) int { return cmp.Compare(a.id, b.id) })
	trades = trades[:min(len(trades), limit)]
	res := make([]jsontext.Value, 0, len(trades))
	for _, t := range trades {
		res = append(res, marshal(&struct {
			Symbol          string         `json:"symbol"`
			ID              uint64         `json:"id"`
			OrderID         uint64         `json:"orderId"`
			OrderListID     int            `json:"orderListId"`
			Price           jsontext.Value `json:"price"`
			Qty             jsontext.Value `json:"qty"`
			QuoteQty        jsontext.Value `json:"quoteQty"`
			Commission      jsontext.Value `json:"commission"`
			CommissionAsset string         `json:"commissionAsset"`
			Time            int64          `json:"time"`
			IsBuyer         bool           `json:"isBuyer"`
			IsMaker         bool           `json:"isMaker"`
			IsBestMatch     bool           `json:"isBestMatch"`
		}{s.name, t.id, t.o.id, -1, decValue(t.px), decValue(t.qty), decValue(mulDec(t.px, t.qty)),
			decValue(feeOf(t.qty)), s.base, t.time, t.o.side == "BUY", t.maker, true}))
	}
	return res
}

// orderStatus is an order as order.status and openOrders.status answer it.
func orderStatus(o *order) jsontext.Value {
	return marshal(&struct {
		orderFields
		StopPrice         string         `json:"stopPrice"`
		IcebergQty        string         `json:"icebergQty"`
		Time              int64          `json:"time"`
		UpdateTime        int64          `json:"updateTime"`
		IsWorking         bool           `json:"isWorking"`
		OrigQuoteOrderQty jsontext.Value `json:"origQuoteOrderQty"`
	}{orderFieldsOf(o, o.status), "0.00000000", "0.00000000", o.created, o.updated, true, decValue(o.quoteQty)})
}

// Errors of FillOrder and EndOrder.
var (
	// ErrUnknownOrder: no resting order has that id.
	ErrUnknownOrder = errors.New("venuesim: no such resting order")
	// ErrBadStatus: EndOrder takes CANCELED or EXPIRED.
	ErrBadStatus = errors.New("venuesim: an order ends CANCELED or EXPIRED")
)

// FillOrder fills the resting order id (an orderId of order.place) at its
// limit price, as a maker: qty of it ("0.005"), or all that is left when
// qty is "". Its execution report and account update go to the account's
// user-data subscription when there is one, as Binance sends them; with
// none (see [Venue.HoldUserData], [Venue.CloseAPI]) they are lost, and only
// order.status and myTrades tell.
func (v *Venue) FillOrder(id uint64, qty string) error {
	v.stepping.Lock() // the fill's print after the generator's trades
	defer v.stepping.Unlock()
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	o, i := v.resting(id)
	if o == nil {
		return ErrUnknownOrder
	}
	q := o.qty - o.filled
	if qty != "" {
		var ok bool
		if q, ok = parseAmount(qty); !ok || q <= 0 || q > o.qty-o.filled {
			return ErrBadAmount
		}
	}
	o.conn = v.userConn(o.conn)
	now := v.now().UnixMilli()
	s := o.symbol
	was := s.top()
	o.conn.fill(o, now, o.price, q, false)
	if o.filled >= o.qty {
		s.orders = slices.Delete(s.orders, i, i+1)
	}
	v.ownChanged(s, o, now, was)
	return nil
}

// EndOrder ends the resting order id as the venue would on its own:
// status "CANCELED" (an administrative cancel) or "EXPIRED". Its report
// goes where [Venue.FillOrder]'s would.
func (v *Venue) EndOrder(id uint64, status string) error {
	if status != "CANCELED" && status != "EXPIRED" {
		return ErrBadStatus
	}
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	o, i := v.resting(id)
	if o == nil {
		return ErrUnknownOrder
	}
	s := o.symbol
	was := s.top()
	s.orders = slices.Delete(s.orders, i, i+1)
	now := v.now().UnixMilli()
	v.ownChanged(s, o, now, was)
	o.status, o.updated = status, now
	o.conn = v.userConn(o.conn)
	o.conn.execReport(o, now, status, status, "NONE", 0, 0)
	v.acct.release(o, -1)
	o.conn.accountChanged(now, s.base, s.quote)
	return nil
}

// DropNextPlace makes the next order.place of a resting (not marketable)
// order take effect and then lose its WS-API connection before the answer
// and before any execution report: the client cannot tell whether the
// venue has the order (session's ErrDisconnected).
func (v *Venue) DropNextPlace() { v.dropPlace.Store(true) }

// OrderID returns the order id of the latest order with client order id
// cid (an id is unique among open orders only, so it may have been reused).
func (v *Venue) OrderID(cid string) (uint64, bool) {
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := v.latest(func(o *order) bool { return o.clientID == cid }); o != nil {
		return o.id, true
	}
	return 0, false
}

// resting finds a resting order and its index (caller holds the market
// lock).
func (v *Venue) resting(id uint64) (*order, int) {
	o := v.hist[id]
	if o == nil {
		return nil, 0
	}
	for i, x := range o.symbol.orders {
		if x == o {
			return o, i
		}
	}
	return nil, 0
}
