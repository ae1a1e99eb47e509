package normalize

import (
	"errors"
	"fmt"
	"strconv"

	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// Binance's request weights of the WS-API queries below (spot WS-API
// "Query order (USER_DATA)": 4; "Account trade history (USER_DATA)": 5
// with orderId, 20 without; "Current open orders (USER_DATA)": 6 with a
// symbol, 80 without), counted against the venue's REQUEST_WEIGHT limit
// (6000 per minute per IP, "Rate limits").
const (
	BinanceWeightOrderStatus = 4
	BinanceWeightMyTrades    = 20 // with orderId the docs say 5; budgeted at the higher weight
	BinanceWeightOpenOrders  = 80 // without a symbol
)

// BinanceMyTradesLimit is the most trades one myTrades answer carries
// ("limit": default 500, at most 1000); more need another page from the
// last id + 1 ("fromId").
const BinanceMyTradesLimit = 1000

// AppendOrderStatus appends the signed WS-API request order.status for
// the order orderID (Binance's integer order id) of the canonical symbol,
// with request id id (spot WS-API "Query order (USER_DATA)", weight 4).
// The answer is read by [ParseBinanceOrders].
func (e *BinanceOrders) AppendOrderStatus(dst []byte, id uint64, symbol string, orderID schema.ID) ([]byte, error) {
	ps, err := e.orderQuery(symbol, orderID)
	if err != nil {
		return dst, err
	}
	return e.appendSigned(dst, id, "order.status", ps)
}

// AppendOrderStatusByClientID is [BinanceOrders.AppendOrderStatus] for
// the order whose client order id is clientID (origClientOrderId): for an
// order whose placement was not answered, so that its order id is
// unknown.
func (e *BinanceOrders) AppendOrderStatusByClientID(dst []byte, id uint64, symbol string, clientID schema.ID) ([]byte, error) {
	sym, err := e.syms.VenueSymbol(symbol)
	if err != nil {
		return dst, err
	}
	cid, err := clientIDString(&clientID)
	if err != nil {
		return dst, err
	}
	ps := e.signedBase(make([]param, 0, 8))
	ps = append(ps, param{key: "symbol", val: sym}, param{key: "origClientOrderId", val: cid})
	return e.appendSigned(dst, id, "order.status", ps)
}

// AppendMyTrades appends the signed WS-API request myTrades for the
// order orderID of the canonical symbol, from trade id fromID on (0: from
// the order's first), at most [BinanceMyTradesLimit] trades, with request
// id id (spot WS-API "Account trade history (USER_DATA)"). The answer is
// read by [ParseBinanceTrades].
func (e *BinanceOrders) AppendMyTrades(dst []byte, id uint64, symbol string, orderID schema.ID, fromID uint64) ([]byte, error) {
	ps, err := e.orderQuery(symbol, orderID)
	if err != nil {
		return dst, err
	}
	ps = append(ps, param{key: "limit", val: strconv.Itoa(BinanceMyTradesLimit), num: true})
	if fromID > 0 {
		ps = append(ps, param{key: "fromId", val: strconv.FormatUint(fromID, 10), num: true})
	}
	return e.appendSigned(dst, id, "myTrades", ps)
}

// AppendOpenOrders appends the signed WS-API request openOrders.status for
// every symbol of the account, with request id id (spot WS-API "Current
// open orders (USER_DATA)", weight 80 without a symbol). The answer is
// read by [ParseBinanceOrders].
func (e *BinanceOrders) AppendOpenOrders(dst []byte, id uint64) ([]byte, error) {
	return e.appendSigned(dst, id, "openOrders.status", e.signedBase(make([]param, 0, 4)))
}

// signedBase appends the parameters every signed request carries.
func (e *BinanceOrders) signedBase(ps []param) []param {
	ps = append(ps, param{key: "apiKey", val: e.creds.apiKey},
		param{key: "timestamp", val: strconv.FormatInt(e.now().UnixMilli(), 10), num: true})
	if e.recvWindow > 0 {
		ps = append(ps, param{key: "recvWindow", val: strconv.FormatInt(e.recvWindow, 10), num: true})
	}
	return ps
}

// clientIDString checks a client order id as order.place does.
func clientIDString(id *schema.ID) (string, error) {
	if id.IsZero() {
		return "", fmt.Errorf("%w: no client order id", ErrBadValue)
	}
	return clientID(id)
}

func (e *BinanceOrders) orderQuery(symbol string, orderID schema.ID) ([]param, error) {
	sym, err := e.syms.VenueSymbol(symbol)
	if err != nil {
		return nil, err
	}
	if _, ok := parseInt(orderID.Bytes()); !ok {
		return nil, fmt.Errorf("%w: Binance order ids are integers, got %q", ErrBadValue, orderID.Bytes())
	}
	ps := e.signedBase(make([]param, 0, 8))
	return append(ps, param{key: "symbol", val: sym}, param{key: "orderId", val: orderID.String(), num: true}), nil
}

// BinanceQueryError is a WS-API query the venue refused: the answer's
// HTTP-like status (429 rate limit, 418 banned, 4xx, 5xx unknown) and the
// venue's error code and message (-1003 too many requests, -2013 order
// does not exist, …; Binance "Error codes").
type BinanceQueryError struct {
	Status int64
	Code   int64
	Msg    string
}

func (e *BinanceQueryError) Error() string {
	return "normalize: binance query refused: status " + strconv.FormatInt(e.Status, 10) + " code " + strconv.FormatInt(e.Code, 10) + ": " + e.Msg
}

// BinanceOrder is an order as order.status and openOrders.status answer
// it: the canonical symbol, and in Execution its ids, side, type, time in
// force, status, price, quantity, stop price, executed quantity
// (CumFillQty), cumulative quote quantity, remaining quantity, creation
// time (OrderCreated, Unix ns) and last update (TransactTime, Unix ns).
type BinanceOrder struct {
	Symbol string
	schema.Execution
}

// BinanceTrade is one of the account's fills as myTrades answers it.
type BinanceTrade struct {
	Symbol          string // canonical
	TradeID         schema.ID
	OrderID         schema.ID
	Price, Qty      schema.Decimal
	QuoteQty        schema.Decimal
	Commission      schema.Decimal // the fee, in CommissionAsset
	CommissionAsset schema.ID
	Time            int64 // Unix ns
	IsBuyer         bool
	IsMaker         bool
}

// bnQueryOrder is an order of order.status / openOrders.status.
type bnQueryOrder struct {
	Symbol      text    `json:"symbol"`
	OrderID     ident   `json:"orderId"`
	ClientID    ident   `json:"clientOrderId"`
	Price       num     `json:"price"`
	OrigQty     num     `json:"origQty"`
	ExecutedQty num     `json:"executedQty"`
	CumQuote    num     `json:"cummulativeQuoteQty"`
	Status      text    `json:"status"`
	TIF         text    `json:"timeInForce"`
	Type        text    `json:"type"`
	Side        text    `json:"side"`
	StopPrice   num     `json:"stopPrice"`
	Time        integer `json:"time"`
	UpdateTime  integer `json:"updateTime"`
}

// bnQueryTrade is a trade of myTrades.
type bnQueryTrade struct {
	Symbol          text    `json:"symbol"`
	ID              ident   `json:"id"`
	OrderID         ident   `json:"orderId"`
	Price           num     `json:"price"`
	Qty             num     `json:"qty"`
	QuoteQty        num     `json:"quoteQty"`
	Commission      num     `json:"commission"`
	CommissionAsset ident   `json:"commissionAsset"`
	Time            integer `json:"time"`
	IsBuyer         flag    `json:"isBuyer"`
	IsMaker         flag    `json:"isMaker"`
}

type bnQueryError struct {
	Code integer `json:"code"`
	Msg  string  `json:"msg"`
}

// oneOrMany decodes a result that is an object or an array of objects.
type oneOrMany[T any] struct{ v []T }

func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		o.v = append(o.v[:0], *new(T))
		return json.Unmarshal(b, &o.v[0])
	}
	return json.Unmarshal(b, &o.v)
}

type bnQueryAnswer[T any] struct {
	Status integer       `json:"status"`
	Result *oneOrMany[T] `json:"result"`
	Error  *bnQueryError `json:"error"`
}

// errNoResult: an answer with neither a result nor an error.
var errNoResult = errors.New("no result and no error")

// decodeQuery reads a WS-API answer {"id","status","result"|"error"}; a
// refusal is a *BinanceQueryError, anything else unreadable a *ParseError
// (a decoder panic too, recovered).
func decodeQuery[T any](method string, data []byte) ([]T, error) {
	var a bnQueryAnswer[T]
	if err := decodeREST(data, &a, schema.VenueBinance, method); err != nil {
		return nil, err
	}
	switch {
	case a.Error != nil:
		return nil, &BinanceQueryError{Status: a.Status.v, Code: a.Error.Code.v, Msg: a.Error.Msg}
	case a.Result == nil:
		return nil, &ParseError{Venue: schema.VenueBinance, Stream: method, Err: fmt.Errorf("%w: %w", ErrMalformed, errNoResult)}
	}
	return a.Result.v, nil
}

// ParseBinanceOrders reads the answer to order.status (one order) or
// openOrders.status (any number), appending the orders to dst. A refusal
// is a [*BinanceQueryError] (-2013: the order does not exist); a missing
// field, an unknown symbol or a malformed value a [*ParseError] naming the
// field. syms maps Binance's symbols to canonical ones.
func ParseBinanceOrders(data []byte, syms *Symbols, dst []BinanceOrder) ([]BinanceOrder, error) {
	const method = "order.status"
	orders, err := decodeQuery[bnQueryOrder](method, data)
	if err != nil {
		return dst, err
	}
	for i := range orders {
		q := &orders[i]
		var o BinanceOrder
		x := &o.Execution
		if o.Symbol, err = querySymbol(method, syms, &q.Symbol); err != nil {
			return dst, err
		}
		switch {
		case !q.OrderID.ok || q.OrderID.v.IsZero():
			return dst, queryField(method, "orderId", errMissing)
		case !q.Status.ok:
			return dst, queryField(method, "status", errMissing)
		case !q.ExecutedQty.ok:
			return dst, queryField(method, "executedQty", errMissing)
		}
		x.VenueOrderID, x.ClientOrderID = q.OrderID.v, q.ClientID.v
		if x.Status = enum(binanceStatuses, &q.Status); x.Status == schema.StatusUnknown {
			return dst, queryField(method, "status", ErrBadValue)
		}
		if q.Side.ok {
			s, ok := sideWords[string(q.Side.bytes())]
			if !ok {
				return dst, queryField(method, "side", errSide)
			}
			x.Side = s
		}
		x.Type = enum(binanceOrderTypes, &q.Type)
		x.TimeInForce = enum(binanceTIFs, &q.TIF)
		for _, f := range []struct {
			dst  *schema.Decimal
			name string
			n    num
		}{{&x.Price, "price", q.Price}, {&x.Qty, "origQty", q.OrigQty}, {&x.StopPrice, "stopPrice", q.StopPrice},
			{&x.CumFillQty, "executedQty", q.ExecutedQty}, {&x.CumQuoteQty, "cummulativeQuoteQty", q.CumQuote}} {
			if f.n.ok && f.n.v.Sign() < 0 {
				return dst, queryField(method, f.name, errNegative)
			}
			*f.dst = f.n.v
		}
		if x.CumFillQty.Cmp(x.Qty) <= 0 {
			x.RemainingQty, _ = x.Qty.Sub(x.CumFillQty)
		}
		endRemaining(x)
		x.OrderCreated = q.Time.v * 1e6
		x.TransactTime = either(q.UpdateTime.v, q.Time.v) * 1e6
		dst = append(dst, o)
	}
	return dst, nil
}

// ParseBinanceTrades reads the answer to myTrades, appending its trades
// (in the venue's order: by trade id) to dst. Errors as
// [ParseBinanceOrders]; a trade without an id, a price or a quantity, or
// with a negative one, is a [*ParseError].
func ParseBinanceTrades(data []byte, syms *Symbols, dst []BinanceTrade) ([]BinanceTrade, error) {
	const method = "myTrades"
	trades, err := decodeQuery[bnQueryTrade](method, data)
	if err != nil {
		return dst, err
	}
	for i := range trades {
		q := &trades[i]
		var t BinanceTrade
		if t.Symbol, err = querySymbol(method, syms, &q.Symbol); err != nil {
			return dst, err
		}
		switch {
		case !q.ID.ok || q.ID.v.IsZero():
			return dst, queryField(method, "id", errMissing)
		case !q.OrderID.ok || q.OrderID.v.IsZero():
			return dst, queryField(method, "orderId", errMissing)
		case !q.Price.ok || q.Price.v.Sign() <= 0:
			return dst, queryField(method, "price", errNotPositive)
		case !q.Qty.ok || q.Qty.v.Sign() <= 0:
			return dst, queryField(method, "qty", errNotPositive)
		case q.QuoteQty.v.Sign() < 0:
			return dst, queryField(method, "quoteQty", errNegative)
		}
		t.TradeID, t.OrderID, t.CommissionAsset = q.ID.v, q.OrderID.v, q.CommissionAsset.v
		t.Price, t.Qty, t.QuoteQty, t.Commission = q.Price.v, q.Qty.v, q.QuoteQty.v, q.Commission.v
		if !q.QuoteQty.ok {
			t.QuoteQty, _ = mulRounded(t.Price, t.Qty)
		}
		t.Time = q.Time.v * 1e6
		t.IsBuyer, t.IsMaker = q.IsBuyer.v, q.IsMaker.v
		dst = append(dst, t)
	}
	return dst, nil
}

var (
	errMissing     = errors.New("missing")
	errNegative    = errors.New("negative")
	errNotPositive = errors.New("missing or not positive")
)

func queryField(method, field string, err error) error {
	return &ParseError{Venue: schema.VenueBinance, Stream: method, Field: field, Err: fmt.Errorf("%w: %w", ErrBadValue, err)}
}

func querySymbol(method string, syms *Symbols, t *text) (string, error) {
	if !t.ok {
		return "", queryField(method, "symbol", errMissing)
	}
	s, err := syms.Lookup(t.bytes())
	if err != nil {
		return "", &ParseError{Venue: schema.VenueBinance, Stream: method, Field: "symbol", Err: err}
	}
	return s, nil
}
