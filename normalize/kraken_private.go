package normalize

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/schema"
)

// krExecMsg is one element of the private v2 "executions" channel (Kraken
// Spot WebSocket API v2, "User Data → Executions", on
// wss://ws-auth.kraken.com/v2 with a token from [FetchKrakenWebSocketsToken]):
// order status changes and fills. The fields sent depend on exec_type: a
// "trade" carries trade_id, exec_id, last_qty, last_price, liquidity_ind
// and fees; a status change carries the order's fields. Numbers are JSON
// numbers, times RFC 3339.
//
//   - order_id, cl_ord_id, trade_id: VenueOrderID, ClientOrderID, TradeID.
//   - order_status: pending_new, new, partially_filled, filled, canceled,
//     expired. Any other word is a *ParseError wrapping ErrUnknownStatus,
//     unless the report carries a fill (last_qty > 0: then PartiallyFilled,
//     or Filled once cum_qty reaches the order's quantity); a report
//     without one keeps the order's last known status.
//   - exec_type: pending_new, new, trade (Trade), canceled, expired,
//     amended (Amendment: a change we asked for), restated and
//     iceberg_refill (Restated: the engine changed the order, or refilled
//     an iceberg's visible part, on its own); filled and status are
//     OrderStatus. "filled" is not a fill: Kraken sends the
//     trade that completes an order as exec_type "trade" (its
//     order_status may still say partially_filled) and then "a separate
//     exec_type: filled update [that] reports completion" (Kraken
//     "Executions"), with no trade_id, last_qty or last_price; that
//     report carries the order's Filled status, and no LastFill. A
//     report that carries a fill (last_qty > 0) is a Trade whatever its
//     exec_type; any other word is a *ParseError wrapping
//     ErrUnknownExecType. A "trade" without a positive last_qty is a
//     *ParseError wrapping ErrBadValue.
//   - order_type: market, limit, iceberg (Limit), stop-loss,
//     stop-loss-limit, take-profit, take-profit-limit, trailing-stop,
//     trailing-stop-limit, settle-position; post_only makes a
//     limit order LimitMaker. time_in_force GTC, IOC, FOK, GTD (GTC), in
//     either case.
//   - limit_price is Price; triggers.price (or stop_price) StopPrice,
//     each only when it is a price: an offset (limit_price_type or
//     triggers.price_type "pct" or "quote"; a trailing-stop-limit's limit
//     and a trailing order's trigger unless "static") leaves it zero,
//     unknown (see krOffset), and a negative offset is no refusal. A
//     report that leaves the units out (an "amended" with the new price
//     alone) takes those the order's earlier reports said.
//   - fees: the first fee's asset and qty (Kraken's sign: positive is
//     paid) are FeeAsset and Fee. liquidity_ind "m" is IsMaker.
//   - timestamp is ExchangeTS and TransactTime; the frame's sequence the
//     SeqProvider.
//
// Kraken sends only what changed: a "new" names the order, its status and
// the time, no symbol, side or quantity; a "canceled" adds the cumulative
// fill. The parser keeps each open order's last known
// fields (symbol, client id, side, type, time in force, quantity, prices,
// cumulative fill, status) and completes every report of the order with
// those the message leaves out, so each report is whole (as Binance's
// are), whichever connection sends it (the account's orders are the same
// on every connection; during a make-before-break rotation both report
// them). An order is forgotten once its status is final; at most
// maxKrakenOrders are followed per parser: when that many are, those no
// report of the newest connection named (orders that ended while no
// connection was up) are forgotten, and if none was, a new order's
// reports carry only what Kraken sent.
type krExecMsg struct {
	Symbol       text       `json:"symbol"`
	OrderID      ident      `json:"order_id"`
	ClOrdID      ident      `json:"cl_ord_id"`
	TradeID      ident      `json:"trade_id"`
	Side         text       `json:"side"`
	OrderType    text       `json:"order_type"`
	TimeInForce  text       `json:"time_in_force"`
	PostOnly     flag       `json:"post_only"`
	ExecType     text       `json:"exec_type"`
	OrderStatus  text       `json:"order_status"`
	OrderQty     num        `json:"order_qty"`
	LimitPrice   num        `json:"limit_price"`
	LimitType    text       `json:"limit_price_type"`
	StopPrice    num        `json:"stop_price"`
	Triggers     krTriggers `json:"triggers"`
	LastQty      num        `json:"last_qty"`
	LastPrice    num        `json:"last_price"`
	CumQty       num        `json:"cum_qty"`
	CumCost      num        `json:"cum_cost"`
	AvgPrice     num        `json:"avg_price"`
	Reason       text       `json:"reason"`
	Timestamp    text       `json:"timestamp"`
	LiquidityInd text       `json:"liquidity_ind"`
	Fees         krFees     `json:"fees"`
}

// krTriggers is an execution's "triggers": the trigger price of a
// triggered order type and its units.
type krTriggers struct {
	Price     num  `json:"price"`
	PriceType text `json:"price_type"`
}

// krUnits is what a Kraken price's units (limit_price_type,
// triggers.price_type) say it is: not said, a price or an offset.
type krUnits uint8

const (
	krUnitsUnsaid krUnits = iota
	krUnitsPrice
	krUnitsOffset
)

// krUnitsOf reads a price's units. Kraken v2 "add_order"/"amend_order":
// limit_price_type and triggers.price_type are "static" (a market price),
// "pct" (a percentage offset from the reference price) or "quote" (an
// offset in the quote currency). Another word, or none, says nothing.
func krUnitsOf(priceType *text) krUnits {
	switch string(priceType.bytes()) {
	case "static":
		return krUnitsPrice
	case "pct", "quote":
		return krUnitsOffset
	}
	return krUnitsUnsaid
}

// said is u, or was (the units the order's earlier reports said) when u
// says nothing: Kraken sends the units with the report that carries them,
// and a later report of the order's new price may leave them out.
func (u krUnits) said(was krUnits) krUnits {
	if u == krUnitsUnsaid {
		return was
	}
	return u
}

// krOffset reports whether a Kraken price of units u is an offset rather
// than a price. Unsaid, "static is the default for all order types except
// for trailing-stop-limit which has the default quote offset"
// (limit_price_type); a trailing order's trigger trails "a specified
// distance from the peak price": its trigger is an offset unless the
// order's reports say static. trailing is whether the rule's exception
// holds for the price read.
func krOffset(u krUnits, trailing bool) bool {
	switch u {
	case krUnitsPrice:
		return false
	case krUnitsOffset:
		return true
	}
	return trailing
}

// krFees reads the first fee of an execution's "fees" array.
type krFees struct {
	Asset ident
	Qty   num
}

func (k *krFees) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	if in.PeekKind() != '[' {
		return in.SkipValue()
	}
	return tuple(in, func(pos int) error {
		if pos > 0 {
			return in.SkipValue()
		}
		return k.first(in)
	})
}

// first reads the first fee object's asset and qty, member by member.
func (k *krFees) first(in *jsontext.Decoder) error {
	if err := enter(in, '{', errWantArray); err != nil {
		return err
	}
	for {
		var err error
		switch in.PeekKind() {
		case '}':
			_, err = in.ReadToken()
			return err
		case 0:
			_, err = in.ReadValue()
			return err
		}
		name, err := in.ReadValue()
		if err != nil {
			return err
		}
		switch string(name) {
		case `"asset"`:
			err = k.Asset.UnmarshalJSONFrom(in)
		case `"qty"`:
			err = k.Qty.UnmarshalJSONFrom(in)
		default:
			err = in.SkipValue()
		}
		if err != nil {
			return err
		}
	}
}

func (m *krExecMsg) fill(f *filler) {
	x := f.ev.UseExec()
	f.needID("order_id", m.OrderID)
	f.symbol("symbol", &m.Symbol)
	f.id(&x.VenueOrderID, m.OrderID)
	f.id(&x.ClientOrderID, m.ClOrdID)
	f.id(&x.TradeID, m.TradeID)
	f.side(&x.Side, "side", &m.Side)
	x.Type = enum(krakenOrderTypes, &m.OrderType)
	if m.PostOnly.v && x.Type == schema.OrderTypeLimit {
		x.Type = schema.OrderTypeLimitMaker
	}
	x.TimeInForce = enum(krakenTIFs, &m.TimeInForce)
	fill := m.LastQty.ok && m.LastQty.v.Sign() > 0
	if fill {
		x.ExecType = schema.ExecTrade // whatever the word: a fill is never dropped for it
	} else {
		x.ExecType = f.execType("exec_type", krakenExecTypes, &m.ExecType)
	}
	derive := f.status(&x.Status, "order_status", krakenStatuses, &m.OrderStatus, fill)
	f.price(&x.Qty, "order_qty", m.OrderQty)
	// a later report: the order's type as first read, and its prices'
	// units as last said
	typ, units := x.Type, [2]krUnits{krUnitsOf(&m.LimitType), krUnitsOf(&m.Triggers.PriceType)}
	orders := &f.p.state.(*krState).orders
	var was *krOrder // the order's earlier reports, looked up once for complete too
	if at, known := orders.m[string(x.VenueOrderID.Bytes())]; known {
		was = at
		if !m.OrderType.ok {
			typ = at.typ
		}
		units = [2]krUnits{units[0].said(at.units[0]), units[1].said(at.units[1])}
	}
	// an offset (a trailing-stop-limit's limit, a pct or quote trigger)
	// is no price: Price or StopPrice stays zero, unknown
	if !krOffset(units[0], typ == schema.OrderTypeTrailingStopLimit) {
		f.price(&x.Price, "limit_price", m.LimitPrice)
	}
	if !krOffset(units[1], typ == schema.OrderTypeTrailingStop || typ == schema.OrderTypeTrailingStopLimit) {
		f.price(&x.StopPrice, "triggers.price", m.Triggers.Price)
	}
	f.price(&x.StopPrice, "stop_price", m.StopPrice)
	f.price(&x.LastFillQty, "last_qty", m.LastQty)
	f.price(&x.LastFillPrice, "last_price", m.LastPrice)
	f.price(&x.CumFillQty, "cum_qty", m.CumQty)
	f.price(&x.CumQuoteQty, "cum_cost", m.CumCost)
	f.price(&x.AvgPrice, "avg_price", m.AvgPrice)
	x.RejectReason = internOrCopy(nil, &m.Reason)
	f.time(&f.main, "timestamp", &m.Timestamp)
	x.TransactTime = f.main
	x.IsMaker = string(m.LiquidityInd.bytes()) == "m"
	f.id(&x.FeeAsset, m.Fees.Asset)
	f.decimal(&x.Fee, m.Fees.Qty)
	f.needFill("last_qty")
	f.needFillPrice("last_price", m.LastPrice)
	f.need("order_status", m.OrderStatus.ok)
	f.need("exec_type", m.ExecType.ok)
	if f.err == nil {
		orders.complete(f, m, derive, units, was)
	}
	execDerive(f)
}

// maxKrakenOrders bounds the orders a Kraken parser follows.
const maxKrakenOrders = 1 << 16

// krOrders holds the last known fields of each open order, to complete
// Kraken's partial execution reports.
type krOrders struct {
	newest uint64              // the newest connection that reported
	m      map[string]*krOrder // pointers: a known order is updated without a map assignment
	// pending, pendingID: the report being read, remembered by commit.
	pending   krOrder
	pendingID schema.ID
}

// krOrder is what Kraken may leave out of an order's later reports.
type krOrder struct {
	symbol                    string
	clOrdID                   schema.ID
	side                      schema.Side
	typ                       schema.OrderType
	tif                       schema.TimeInForce
	status                    schema.OrderStatus
	qty, price, stop          schema.Decimal
	cumQty, cumCost, avgPrice schema.Decimal
	units                     [2]krUnits // limit_price's and triggers.price's, as last said
	conn                      uint64     // the connection of its last report
}

// complete fills what m left out of ev from the order's earlier reports,
// and holds the order as ev now has it, with units (its prices' units as
// said so far) and was (the order as its earlier reports left it, nil for
// an order not known), remembered once the report is accepted (commit): a
// report refused after it is read changes nothing.
func (o *krOrders) complete(f *filler, m *krExecMsg, derive bool, units [2]krUnits, was *krOrder) {
	ev := f.ev
	x := ev.UseExec()
	if at := was; at != nil {
		keep(!m.Symbol.ok, &ev.Symbol, at.symbol)
		keep(!m.ClOrdID.ok, &x.ClientOrderID, at.clOrdID)
		keep(!m.Side.ok, &x.Side, at.side)
		keep(!m.OrderType.ok, &x.Type, at.typ)
		keep(!m.TimeInForce.ok, &x.TimeInForce, at.tif)
		keep(!m.OrderStatus.ok && !derive, &x.Status, at.status)
		keep(!m.OrderQty.ok, &x.Qty, at.qty)
		keep(!m.LimitPrice.ok, &x.Price, at.price)
		keep(!m.StopPrice.ok && !m.Triggers.Price.ok, &x.StopPrice, at.stop)
		keep(!m.CumQty.ok, &x.CumFillQty, at.cumQty)
		keep(!m.CumCost.ok, &x.CumQuoteQty, at.cumCost)
		keep(!m.AvgPrice.ok, &x.AvgPrice, at.avgPrice)
	}
	if derive {
		x.Status = fillStatus(x)
	}
	o.pendingID, f.memo = x.VenueOrderID, o
	o.pending = krOrder{symbol: ev.Symbol, clOrdID: x.ClientOrderID, side: x.Side, typ: x.Type, tif: x.TimeInForce, status: x.Status,
		qty: x.Qty, price: x.Price, stop: x.StopPrice, cumQty: x.CumFillQty, cumCost: x.CumQuoteQty, avgPrice: x.AvgPrice, units: units, conn: f.p.raw.ConnID}
}

func (o *krOrders) commit() {
	now, pid := o.pending, o.pendingID
	o.pending, o.pendingID = krOrder{}, schema.ID{}
	id := pid.Bytes()
	if o.m == nil {
		o.m = make(map[string]*krOrder)
	}
	o.newest = max(o.newest, now.conn)
	at, known := o.m[string(id)]
	switch {
	case now.status.Final():
		if known {
			delete(o.m, string(id))
		}
		return
	case !known && len(o.m) >= maxKrakenOrders && !o.sweep():
		return
	case !known:
		at = new(krOrder) // the order's first report: its key and state are allocated, once per order
		o.m[string(id)] = at
	}
	*at = now
}

// sweep forgets the orders no report of the newest connection named (they
// ended while no connection was up) and reports whether there is room
// for another order.
func (o *krOrders) sweep() bool {
	for id, at := range o.m {
		if at.conn < o.newest {
			delete(o.m, id)
		}
	}
	return len(o.m) < maxKrakenOrders
}

// keep sets *dst to v when the message left the field out.
func keep[T any](missing bool, dst *T, v T) {
	if missing {
		*dst = v
	}
}

// Kraken's enum spellings (Kraken Spot WebSocket API v2, "Executions").
var (
	krakenExecTypes = map[string]schema.ExecType{
		"pending_new": schema.ExecPendingNew, "new": schema.ExecNew, "trade": schema.ExecTrade,
		// filled: "A separate exec_type: filled update reports completion"
		// (no trade); status: the order's status changed. Both only tell
		// where the order stands.
		"filled": schema.ExecOrderStatus, "status": schema.ExecOrderStatus,
		"canceled": schema.ExecCanceled, "expired": schema.ExecExpired, "amended": schema.ExecAmendment,
		// restated: the engine changed the order, not at our request;
		// iceberg_refill: the engine refilled an iceberg's visible part.
		"restated": schema.ExecRestated, "iceberg_refill": schema.ExecRestated,
	}
	krakenStatuses = map[string]schema.OrderStatus{
		"pending_new": schema.StatusPendingNew, "new": schema.StatusNew, "partially_filled": schema.StatusPartiallyFilled,
		"filled": schema.StatusFilled, "canceled": schema.StatusCanceled, "expired": schema.StatusExpired,
	}
	krakenOrderTypes = map[string]schema.OrderType{
		"market": schema.OrderTypeMarket, "limit": schema.OrderTypeLimit, "iceberg": schema.OrderTypeLimit,
		"stop-loss": schema.OrderTypeStopLoss, "stop-loss-limit": schema.OrderTypeStopLossLimit,
		"take-profit": schema.OrderTypeTakeProfit, "take-profit-limit": schema.OrderTypeTakeProfitLimit,
		// Kraken v2 "add_order" order_type, as "executions" reports it:
		// trailing-stop ("a market order is triggered when the market
		// reverts a specified distance from the peak price"),
		// trailing-stop-limit (a limit order so triggered),
		// settle-position (settles a margin position).
		"trailing-stop": schema.OrderTypeTrailingStop, "trailing-stop-limit": schema.OrderTypeTrailingStopLimit,
		"settle-position": schema.OrderTypeSettlePosition,
	}
	krakenTIFs = map[string]schema.TimeInForce{
		"gtc": schema.TIFGTC, "ioc": schema.TIFIOC, "fok": schema.TIFFOK, "gtd": schema.TIFGTC,
		"GTC": schema.TIFGTC, "IOC": schema.TIFIOC, "FOK": schema.TIFFOK, "GTD": schema.TIFGTC,
	}
)

// KrakenSubscribeExecutions returns the v2 subscribe request of the private
// "executions" channel with token (from [FetchKrakenWebSocketsToken]) and
// request id reqID: {"method":"subscribe","params":{"channel":"executions",
// "token","snap_orders","snap_trades"},"req_id"}. snapOrders asks for the
// open orders and snapTrades for the last 50 fills in the first message
// (Kraken "Executions": defaults true and false). The parser delivers a
// snapshot's fill only when it has not delivered it already (same order
// and trade id: a repeat, counted in Stats.Repeats), so snapTrades on a
// reconnection recovers the fills made while the connection was down
// without repeating the others; on the parser's first connection every
// snapshot fill is delivered, older ones included. Kraken tokens are valid
// for 15 minutes unless a connection uses them, so fetch one per
// connection. The ack is a schema.ControlSubscribeAck carrying reqID.
func KrakenSubscribeExecutions(token string, reqID uint64, snapOrders, snapTrades bool) ([]byte, error) {
	if err := checkKrakenToken(token); err != nil {
		return nil, err
	}
	type params struct {
		Channel    string `json:"channel"`
		Token      string `json:"token"`
		SnapOrders bool   `json:"snap_orders"`
		SnapTrades bool   `json:"snap_trades"`
	}
	return marshalRequest(&struct {
		Method string `json:"method"`
		Params params `json:"params"`
		ReqID  uint64 `json:"req_id"`
	}{"subscribe", params{"executions", token, snapOrders, snapTrades}, reqID})
}

// checkKrakenToken refuses a token that cannot be a Kraken WebSocket
// token (empty, or breaking out of its JSON string).
func checkKrakenToken(token string) error {
	if token == "" || strings.ContainsAny(token, "\"\\") {
		return fmt.Errorf("%w: Kraken WebSocket token %q", ErrBadValue, token)
	}
	return nil
}

// KrakenGetWebSocketsToken is the path of Kraken's token endpoint.
const KrakenGetWebSocketsToken = "/0/private/GetWebSocketsToken"

// KrakenSign returns Kraken's API-Sign header of a private REST request
// (Kraken "Spot REST Authentication"): the Base64 of the HMAC-SHA512, under
// the Base64-decoded API secret, of path followed by the SHA-256 of
// nonce + postData. postData is the form-encoded body, nonce included.
func KrakenSign(secretB64, path, nonce, postData string) (string, error) {
	secret, err := base64.StdEncoding.DecodeString(secretB64)
	if err != nil {
		return "", fmt.Errorf("%w: Kraken API secret is not Base64: %w", ErrBadValue, err)
	}
	sum := sha256.Sum256([]byte(nonce + postData))
	m := hmac.New(sha512.New, secret)
	m.Write([]byte(path))
	m.Write(sum[:])
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// FetchKrakenWebSocketsToken gets a token for Kraken's private WebSocket
// channels: POST {baseURL}/0/private/GetWebSocketsToken (baseURL
// https://api.kraken.com) with body nonce=…, signed by [KrakenSign], with
// client (http.DefaultClient when nil). nonce must grow with every private
// request of the key (Unix milliseconds will do). Kraken's answer is
// {"error":[],"result":{"token","expires"}}: a non-empty "error" is a
// [*RESTError]; a malformed answer a [*ParseError].
func FetchKrakenWebSocketsToken(ctx context.Context, client *http.Client, baseURL, apiKey, secretB64 string, nonce uint64) (string, error) {
	body, headers, err := KrakenPrivateRequest(apiKey, secretB64, KrakenGetWebSocketsToken, nonce, nil)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+KrakenGetWebSocketsToken, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	data, err := doREST(client, req, schema.VenueKraken, "GetWebSocketsToken")
	if err != nil {
		return "", err
	}
	var ans struct {
		Error  []string `json:"error"`
		Result struct {
			Token string `json:"token"`
		} `json:"result"`
	}
	if err := decodeREST(data, &ans, schema.VenueKraken, "GetWebSocketsToken"); err != nil {
		return "", err
	}
	if len(ans.Error) > 0 {
		return "", &RESTError{Venue: schema.VenueKraken, Endpoint: "GetWebSocketsToken", Msg: strings.Join(ans.Error, "; ")}
	}
	if ans.Result.Token == "" {
		return "", &ParseError{Venue: schema.VenueKraken, Stream: "GetWebSocketsToken", Field: "token", Err: ErrMissingField}
	}
	return ans.Result.Token, nil
}
