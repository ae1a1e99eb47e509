package venuesim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
)

// order is a working order of the WS-API.
type order struct {
	id            uint64
	clientID      string
	symbol        *symbolState
	side          string // BUY or SELL
	typ           string // LIMIT, MARKET, LIMIT_MAKER
	tif           string
	price, qty    int64
	quoteQty      int64 // quoteOrderQty of a MARKET order by quote amount, else 0
	filled, quote int64
	created       int64 // ms
	conn          *conn
	lockAsset     string // what a resting order locked (account.go)
	lockLeft      int64
	status        string     // Binance's order status, as order.status answers it
	updated       int64      // ms of the latest change
	trades        []simTrade // its fills, for myTrades (queries.go)
	// stp is its selfTradePreventionMode; prevented the quantity self-trade
	// prevention expired (preventedQuantity), preventedID its prevented
	// match's id (take).
	stp         string
	prevented   int64
	preventedID int64
}

// defaultSTP and the STP modes a symbol allows, as Binance's spot
// exchangeInfo lists them for BTCUSDT ("defaultSelfTradePreventionMode":
// "EXPIRE_MAKER", "allowedSelfTradePreventionModes"; spot "Self Trade
// Prevention (STP) FAQ": "Orders will use this STP mode if the user does
// not provide one on order placement"). NONE is not among them: our
// orders never trade with each other. DECREMENT and TRANSFER, which
// Binance lists for some symbols, are not among them either: an order
// naming them is refused as one naming any mode its symbol does not
// allow (-1013, placeOrder).
const defaultSTP = "EXPIRE_MAKER"

var allowedSTP = []string{"EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"}

// apiRequest is a WS-API request.
type apiRequest struct {
	ID     jsontext.Value            `json:"id"`
	Method string                    `json:"method"`
	Params map[string]jsontext.Value `json:"params"`
	limits bool                      // its answer carries rateLimits (returnRateLimits)
	// sink, when set, takes the answer instead of the connection: a step
	// of order.cancelReplace (cancelReplace).
	sink *[]byte
	// signed is set on a step of order.cancelReplace: the request's
	// signature was checked whole, over the parameters the client signed;
	// a step's are renamed and split, so checking them again would fail.
	signed bool
}

// serveAPI serves the WS-API: order.place, order.cancel,
// order.cancelReplace, the queries, userDataStream.subscribe /
// unsubscribe, ping and time.
func (v *Venue) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !v.enter() {
		http.Error(w, "venue closed", http.StatusServiceUnavailable)
		return
	}
	defer v.wg.Done()
	noLimits := r.URL.Query().Get("returnRateLimits") == "false"
	ip, now := clientIP(r), v.now()
	if !v.admitHandshake(w, &v.apiConnLimit, ip, now) {
		return
	}
	c := v.accept(w, r, true, false, nil, func(c *conn) {
		c.noLimits = noLimits
		// Spent before the client holds its 101: a request on another
		// connection made after this Dial returns sees the weight.
		_, minute := v.rates.spendIn(now.UnixMilli(), connectWeight)
		c.unadmit = func() {
			v.rates.refund(minute, connectWeight)
			v.apiConnLimit.release(ip, now)
		}
	})
	if c == nil {
		return
	}
	c.run(c.handleAPIRequest)
}

// apiError is Binance's WS-API error shape.
func apiError(id jsontext.Value, status, code int, msg string) []byte {
	type errorBody struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	return marshal(&struct {
		ID     jsontext.Value `json:"id"`
		Status int            `json:"status"`
		Error  errorBody      `json:"error"`
	}{nullIfEmpty(id), status, errorBody{code, msg}})
}

func apiResult(id jsontext.Value, res []byte) []byte {
	return marshal(&struct {
		ID     jsontext.Value `json:"id"`
		Status int            `json:"status"`
		Result jsontext.Value `json:"result"`
	}{nullIfEmpty(id), 200, res})
}

// param returns a string parameter (JSON string or number) or "".
func param(p map[string]jsontext.Value, key string) string {
	raw, ok := p[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func (c *conn) handleAPIRequest(msg []byte) {
	v := c.v
	var req apiRequest
	err := json.Unmarshal(msg, &req)
	// "Request method names may be prefixed with explicit version: e.g.,
	// "v3/order.place"" (WebSocket API "Request format").
	req.Method = strings.TrimPrefix(req.Method, "v3/")
	at := c.v.now()
	now := at.UnixMilli()
	req.limits = c.wantLimits(&req)
	id := req.ID
	if err != nil || !validID(id) {
		id = nil
	}
	if until, banned := v.bans.bannedUntil(c.ip, at); banned {
		v.rejected.Add(1)
		c.answerBanned(req, id, at, until)
		return
	}
	weight := v.rates.spend(now, v.methodWeight(&req))
	if v.opts.EnforceRateLimits && weight > weightLimit {
		v.rejected.Add(1)
		c.limited(req, id, at)
		return
	}
	if err != nil {
		// As Binance answers a frame that is no JSON: -1135 "Invalid JSON
		// request.", id null (a recorded Binance testnet answer, status
		// 400; "Error codes" -1135 INVALID_JSON). Was -1102 "Malformed
		// request.", a text of no Binance code.
		v.rejected.Add(1)
		c.answer(req, apiError(nil, 400, -1135, "Invalid JSON request."))
		return
	}
	if len(req.ID) > 0 && !validID(req.ID) {
		v.rejected.Add(1)
		c.answer(req, apiError(nil, 400, -1135, "Invalid 'id' in JSON request; expected an integer, a string matching '^[a-zA-Z0-9-_]{1,36}$', or null."))
		return
	}
	switch req.Method {
	case "ping":
		c.answer(req, apiResult(req.ID, []byte("{}")))
	case "time":
		c.answer(req, apiResult(req.ID, marshal(&struct {
			ServerTime int64 `json:"serverTime"`
		}{c.v.now().UnixMilli()})))
	case "userDataStream.subscribe", "userDataStream.subscribe.signature":
		c.subscribeUserData(req)
	case "userDataStream.unsubscribe":
		// Without subscriptionId every subscription ends; with one, that
		// one, if it is the connection's. A subscription that ends says
		// so after the answer, with eventStreamTerminated (Binance "User
		// Data Streams", "Event Stream Terminated": "sent when the User
		// Data Stream is stopped. For example, after you send a
		// userDataStream.unsubscribe request").
		c.mu.Lock()
		ended := -1
		if id := param(req.Params, "subscriptionId"); c.userSub >= 0 && (id == "" || id == strconv.Itoa(c.userSub)) {
			ended, c.userSub = c.userSub, -1
		}
		c.answer(req, apiResult(req.ID, []byte(`{}`)))
		if ended >= 0 {
			c.reply(terminated(ended, c.v.now().UnixMilli()))
		}
		c.mu.Unlock()
	case "order.place":
		c.placeOrder(req)
	case "order.cancel":
		c.cancelOrder(req)
	case "order.cancelReplace":
		c.cancelReplace(req)
	case "order.status", "myTrades", "openOrders.status", "myPreventedMatches":
		c.query(req)
	default:
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -1100, "Illegal characters found in parameter 'method'; legal range is '^[a-zA-Z0-9._]{1,100}$'."))
	}
}

// limited answers a request refused for REQUEST_WEIGHT: 429 and -1003
// until the next minute, or, when that refusal is the strike that begins
// a ban (Options.Bans), 418 and the IP's WS-API connections cut.
func (c *conn) limited(req apiRequest, id jsontext.Value, at time.Time) {
	now := at.UnixMilli()
	if until, banned := c.v.bans.refused(c.ip, at, time.UnixMilli(now-now%minuteMs+minuteMs)); banned {
		c.answerBanned(req, id, at, until)
		return
	}
	c.answer(req, rateLimited(id, now))
}

// checkSignature verifies, when the venue has a secret, the timestamp
// against recvWindow, apiKey and the HMAC-SHA256 signature of the other
// parameters sorted by name.
func (c *conn) checkSignature(p map[string]jsontext.Value) (code int, msg string) {
	o := c.v.opts
	if param(p, "timestamp") == "" {
		return -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
	}
	if o.APISecret == "" {
		return 0, ""
	}
	if code, msg := checkTimestamp(param(p, "timestamp"), param(p, "recvWindow"), c.v.now()); code != 0 {
		return code, msg
	}
	if param(p, "apiKey") != o.APIKey {
		return -2014, "API-key format invalid."
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var payload strings.Builder
	for i, k := range keys {
		if i > 0 {
			payload.WriteByte('&')
		}
		payload.WriteString(k + "=" + param(p, k))
	}
	mac := hmac.New(sha256.New, []byte(o.APISecret))
	mac.Write([]byte(payload.String()))
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(param(p, "signature"))) {
		return -1022, "Signature for this request is not valid."
	}
	return 0, ""
}

// checkRequest is checkSignature over req's parameters, or nothing to
// check when req is a step of a request already checked (signed).
func (c *conn) checkRequest(req *apiRequest) (code int, msg string) {
	if req.signed {
		return 0, ""
	}
	return c.checkSignature(req.Params)
}

// parseAmount parses a decimal parameter into 1e-8 units.
func parseAmount(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > priceScale {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 1e10 {
		return 0, false
	}
	f := int64(0)
	if frac != "" {
		f, err = strconv.ParseInt(frac+strings.Repeat("0", priceScale-len(frac)), 10, 64)
		if err != nil || f < 0 {
			return 0, false
		}
	}
	return w*one + f, true
}

func mandatory(name string) string {
	return "Mandatory parameter '" + name + "' was not sent, was empty/null, or malformed."
}

// amountParam is a positive decimal parameter in 1e-8 units, or Binance's
// error for it: -1100 for one outside the legal range
// ^([0-9]{1,20})(\.[0-9]{1,20})?$ (a sign, an exponent, a lone point),
// -1111 for more decimals than the venue keeps, -1013 "Invalid
// quantity." or "Invalid price." for a quantity or price of zero, -1102
// for one missing, too large or not positive.
func amountParam(p map[string]jsontext.Value, name string) (v int64, code int, msg string) {
	s := param(p, name)
	if s != "" && !legalDecimal(s) {
		return 0, -1100, "Illegal characters found in parameter '" + name + "'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."
	}
	if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > priceScale {
		return 0, -1111, "Parameter '" + name + "' has too much precision."
	}
	v, ok := parseAmount(s)
	switch {
	case ok && v == 0 && name == "quantity":
		return 0, -1013, "Invalid quantity." // as Binance answers a zero quantity
	case ok && v == 0 && name == "price":
		return 0, -1013, "Invalid price."
	case !ok || v <= 0:
		return 0, -1102, mandatory(name)
	}
	return v, 0, ""
}

// idRanges are the legal ranges of Binance spot's id parameters, as its
// -1100 answers name them (binance-spot-api-docs pull request #34, a
// Binance maintainer: "Illegal characters found in parameter
// 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'", and "dot(.)
// is not allowed"). The wider ^[\.A-Z\:/a-z0-9_-]{1,36}$ is Binance
// futures' rule, not spot's: dots, colons and slashes are refused here.
var idRanges = [...]idRange{
	{"orderId", "^[0-9]{1,20}$", func(b byte) bool { return '0' <= b && b <= '9' }, 20},
	{"origClientOrderId", "^[a-zA-Z0-9-_]{1,36}$", clientIDByte, 36},
	{"newClientOrderId", "^[a-zA-Z0-9-_]{1,36}$", clientIDByte, 36},
	{"preventedMatchId", "^[0-9]{1,20}$", func(b byte) bool { return '0' <= b && b <= '9' }, 20},
	{"fromPreventedMatchId", "^[0-9]{1,20}$", func(b byte) bool { return '0' <= b && b <= '9' }, 20},
}

// idRange is an id parameter's legal range: its name, the range as
// Binance's -1100 names it, its legal bytes and most bytes.
type idRange struct {
	name, rng string
	legal     func(byte) bool
	max       int
}

// check refuses the parameter key, held to r's range, when present but
// outside it, with Binance's -1100 naming key.
func (r *idRange) check(p map[string]jsontext.Value, key string) (code int, msg string) {
	s := param(p, key)
	if s == "" {
		return 0, "" // not sent (or empty: as not sent)
	}
	ok := len(s) <= r.max
	for i := 0; ok && i < len(s); i++ {
		ok = r.legal(s[i])
	}
	if !ok {
		return -1100, "Illegal characters found in parameter '" + key + "'; legal range is '" + r.rng + "'."
	}
	return 0, ""
}

// idRangeOf is the legal range of the id parameter name, nil for a name
// idRanges lacks.
func idRangeOf(name string) *idRange {
	for i := range idRanges {
		if idRanges[i].name == name {
			return &idRanges[i]
		}
	}
	return nil
}

// clientIDByte is a character of a client order id or a request id
// (^[a-zA-Z0-9-_]{1,36}$).
func clientIDByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_'
}

// checkIDs refuses an id parameter present but outside its legal range
// with Binance's -1100.
func checkIDs(p map[string]jsontext.Value) (code int, msg string) {
	for i := range idRanges {
		if code, msg := idRanges[i].check(p, idRanges[i].name); code != 0 {
			return code, msg
		}
	}
	return 0, ""
}

// legalDecimal reports whether s is in the range Binance's -1100 names
// for a decimal parameter: ^([0-9]{1,20})(\.[0-9]{1,20})?$.
func legalDecimal(s string) bool {
	whole, frac, point := strings.Cut(s, ".")
	digits := func(d string) bool {
		return len(d) >= 1 && len(d) <= 20 && strings.Trim(d, "0123456789") == ""
	}
	return digits(whole) && (!point || digits(frac))
}

func (c *conn) placeOrder(req apiRequest) {
	v := c.v
	p := req.Params
	reject := func(status, code int, msg string) {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, status, code, msg))
	}
	ts := timestampMillis(param(p, "timestamp"))
	v.uds.mu.Lock()
	v.uds.placeTS = append(v.uds.placeTS, ts)
	v.uds.mu.Unlock()
	if v.opts.EnforceRateLimits {
		now := c.v.now().UnixMilli()
		if ok, retry := v.rates.orderRoom(now); !ok {
			v.rejected.Add(1)
			c.answer(req, tooManyOrders(req.ID, now, retry))
			return
		}
	}
	if code, msg := c.checkRequest(&req); code != 0 {
		reject(400, code, msg)
		return
	}
	sym := param(p, "symbol")
	if sym == "" {
		reject(400, -1102, mandatory("symbol"))
		return
	}
	m := v.mkt
	s, ok := m.byName[sym]
	if !ok {
		reject(400, -1121, "Invalid symbol.")
		return
	}
	if code, msg := checkIDs(p); code != 0 {
		reject(400, code, msg)
		return
	}
	o := &order{symbol: s, side: param(p, "side"), typ: param(p, "type"), tif: param(p, "timeInForce"),
		clientID: param(p, "newClientOrderId"), conn: c}
	switch o.side {
	case "BUY", "SELL":
	case "":
		reject(400, -1102, mandatory("side"))
		return
	default:
		reject(400, -1117, "Invalid side.")
		return
	}
	switch o.typ {
	case "LIMIT", "LIMIT_MAKER", "MARKET":
	case "":
		reject(400, -1102, mandatory("type"))
		return
	default:
		reject(400, -1116, "Invalid orderType.")
		return
	}
	var code int
	var msg string
	// A quantity, or for a MARKET order the quote amount to spend or
	// receive instead (quoteOrderQty): one of the two.
	byQuote := param(p, "quoteOrderQty") != ""
	switch {
	case byQuote && (o.typ != "MARKET" || param(p, "quantity") != ""):
		reject(400, -1106, "Parameter 'quoteOrderQty' sent when not required.")
		return
	case o.typ == "MARKET" && !byQuote && param(p, "quantity") == "":
		reject(400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
		return
	case byQuote:
		if o.quoteQty, code, msg = amountParam(p, "quoteOrderQty"); code != 0 {
			reject(400, code, msg)
			return
		}
	default:
		if o.qty, code, msg = amountParam(p, "quantity"); code != 0 {
			reject(400, code, msg)
			return
		}
	}
	if o.typ == "MARKET" {
		if param(p, "price") != "" {
			reject(400, -1106, "Parameter 'price' sent when not required.")
			return
		}
	} else if o.price, code, msg = amountParam(p, "price"); code != 0 {
		reject(400, code, msg)
		return
	}
	// timeInForce: LIMIT needs one of GTC, IOC, FOK; MARKET and
	// LIMIT_MAKER take none.
	switch {
	case o.typ != "LIMIT" && o.tif != "":
		reject(400, -1106, "Parameter 'timeInForce' sent when not required.")
		return
	case o.typ == "LIMIT" && o.tif == "":
		reject(400, -1102, mandatory("timeInForce"))
		return
	case o.tif != "" && o.tif != "GTC" && o.tif != "IOC" && o.tif != "FOK":
		reject(400, -1115, "Invalid timeInForce.")
		return
	}
	// The STP mode: the symbol's default, or one it allows (STP FAQ: "If a
	// user tries to specify EXPIRE_MAKER for orders on this symbol, they
	// will receive an error", -1013; a value outside the enum gets the
	// same answer here, the FAQ names no other).
	switch o.stp = param(p, "selfTradePreventionMode"); {
	case o.stp == "":
		o.stp = defaultSTP
	case !slices.Contains(allowedSTP, o.stp):
		reject(400, -1013, "This symbol does not allow the specified self-trade prevention mode.")
		return
	}
	if !byQuote { // a quote order's quantity is known at the touch
		if code, msg := checkFilters(s, o); code != 0 {
			reject(400, code, msg)
			return
		}
	}
	// The answer's format: MARKET and LIMIT answer FULL by default, other
	// types ACK (WebSocket API "Place new order", newOrderRespType).
	respType := param(p, "newOrderRespType")
	switch respType {
	case "":
		respType = "FULL"
		if o.typ != "MARKET" && o.typ != "LIMIT" {
			respType = "ACK"
		}
	case "ACK", "RESULT", "FULL":
	default:
		reject(400, -1100, "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT, FULL'.")
		return
	}
	now := c.v.now().UnixMilli()
	// The generator's message under way first: a fill's print goes out
	// after the trades before it (printFill).
	v.stepping.Lock()
	defer v.stepping.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if o.clientID != "" && slices.ContainsFunc(s.orders, func(w *order) bool { return w.clientID == o.clientID }) {
		// newClientOrderId is "a unique id among open orders": the id is
		// the working order's, so no report goes out for this one.
		reject(400, -2010, "Duplicate order sent.")
		return
	}
	if byQuote {
		o.qty = quoteTake(s, o.side == "BUY", o.quoteQty)
		if code, msg := checkFilters(s, o); code != 0 {
			reject(400, code, msg)
			return
		}
	}
	if o.clientID == "" {
		o.clientID = "sim-" + strconv.FormatUint(v.nextOrder.Load()+1, 10)
	}
	o.id = v.nextOrder.Add(1)
	o.created = now
	// Whether it crosses the public book, our own resting orders in it: a
	// LIMIT order that reaches only ours is a taker that meets them (STP
	// FAQ, Scenarios B, D, E), and a LIMIT_MAKER order there would match.
	crosses := o.typ == "MARKET" || reaches(s.publicTop(o.side == "SELL"), o)
	var plan []fillPlan
	var meets []selfMatch
	var stopped bool
	if crosses && o.typ != "LIMIT_MAKER" {
		plan, meets, stopped = takePlan(o)
	}
	switch {
	case orderValue(o, plan) > v.opts.Balance*one:
		// A business reject: the venue's error, and a REJECTED report.
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -2010, "Account has insufficient balance for requested action."))
		c.execReport(o, now, "REJECTED", "REJECTED", "INSUFFICIENT_BALANCES", 0, 0)
		return
	case o.typ == "LIMIT_MAKER" && crosses:
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -2010, "Order would immediately match and take."))
		c.execReport(o, now, "REJECTED", "REJECTED", "WOULD_MATCH_IMMEDIATELY", 0, 0)
		return
	}
	// Counted once its answer and immediate reports are out: a host that
	// sees Stats.Orders reach n may read Stats.ExecReports as final.
	defer v.orders.Add(1)
	v.rates.placed(now)
	v.remember(o, now)
	if !crosses && (o.tif == "IOC" || o.tif == "FOK") {
		// Nothing to take at once: it expires instead of resting.
		o.status = "EXPIRED"
		c.answer(req, apiResult(req.ID, placeResult(o, now, respType, "EXPIRED", nil, 0, nil)))
		c.execReport(o, now, "NEW", "NEW", "NONE", 0, 0)
		c.execReport(o, now, "EXPIRED", "EXPIRED", "NONE", 0, 0)
		return
	}
	if !crosses && v.dropPlace.CompareAndSwap(true, false) {
		// DropNextPlace: the order rests, and the connection goes before
		// its answer or any report (the subscription ends at once).
		v.acct.lock(o)
		was := s.top()
		s.orders = append(s.orders, o)
		v.ownChanged(s, o, now, was)
		c.mu.Lock()
		c.userSub = -1
		c.mu.Unlock()
		v.faults.Add(1)
		c.closeWith(websocket.StatusGoingAway, "")
		return
	}
	if crosses {
		c.take(req, o, now, respType, plan, meets, stopped)
		return
	}
	c.answer(req, apiResult(req.ID, placeResult(o, now, respType, "NEW", nil, 0, nil)))
	c.execReport(o, now, "NEW", "NEW", "NONE", 0, 0)
	v.acct.lock(o)
	c.accountChanged(now, s.base, s.quote)
	was := s.top()
	s.orders = append(s.orders, o)
	v.ownChanged(s, o, now, was)
}

// fill records a fill, sends its report and prints it on the trade
// streams (printFill); taker: the order took liquidity, else it was
// resting (caller holds the stepping and market locks).
func (c *conn) fill(o *order, now, px, qty int64, taker bool) {
	if o.filled == 0 {
		c.v.rates.firstFill(now) // a filled order leaves the unfilled order count
	}
	o.filled += qty
	o.quote += mulDec(px, qty)
	status := "PARTIALLY_FILLED"
	if o.filled >= o.qty {
		status = "FILLED"
	}
	o.symbol.tradeID++
	o.status, o.updated = status, now
	o.trades = append(o.trades, simTrade{id: o.symbol.tradeID, px: px, qty: qty, time: now, maker: !taker})
	c.v.printFill(o, now, px, qty, taker)
	c.v.acct.fill(o, px, qty, feeOf(qty))
	c.execReport(o, now, "TRADE", status, "NONE", px, qty)
	c.accountChanged(now, o.symbol.base, o.symbol.quote)
}

// feeOf is the fee of a fill of qty: 0.1 % of the base quantity, in the
// base asset.
func feeOf(qty int64) int64 { return mulDec(qty, one/1000) }

// reaches reports whether the other side's best level top, a level with a
// quantity, is at o's limit price or better: a LIMIT order there takes
// it, a resting one is filled. An empty side (the zero level: a taker's
// walk took every level) reaches nothing.
func reaches(top level, o *order) bool {
	if top.qty == 0 {
		return false
	}
	if o.side == "BUY" {
		return top.price <= o.price
	}
	return top.price >= o.price
}

// orderValue is the quote-asset value of o (Options.Balance is the most
// an order may have): for a MARKET order the fills plan takes at once,
// each at its own price (a walk up the asks spends more than the best
// ask's price times the quantity; its rest expires); for a LIMIT buy
// those and what is left at its price, the most it may spend; for a
// LIMIT sell its quantity at its price. Saturates past int64.
func orderValue(o *order, plan []fillPlan) int64 {
	if o.typ != "MARKET" && o.side == "SELL" {
		return mulDec(o.price, o.qty)
	}
	var value, took int64
	for _, f := range plan {
		value = min(value, math.MaxInt64-mulDec(f.px, f.qty)) + mulDec(f.px, f.qty)
		took += f.qty
	}
	if o.typ == "MARKET" {
		return value
	}
	rest := mulDec(o.price, o.qty-took)
	return min(value, math.MaxInt64-rest) + rest
}

// fillResting fills resting limit orders the market has moved through
// (fillCrossed) and pushes the bookTicker when the public top changed.
func (v *Venue) fillResting(s *symbolState) {
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(s.orders) == 0 {
		return
	}
	was := s.top()
	v.fillCrossed(s, v.now().UnixMilli())
	v.topChanged(s, was)
}

// fillCrossed fills whole, at their prices, the resting orders the
// generator's other side has reached (reaches), each fill an update of
// the book (noteOwn); the public top is then never crossed. The caller
// pushes the top. Caller holds the market lock.
func (v *Venue) fillCrossed(s *symbolState, now int64) {
	if len(s.orders) == 0 {
		return
	}
	bid, ask := s.bidTop(), s.askTop()
	kept := s.orders[:0]
	for _, o := range s.orders {
		switch {
		case o.side == "BUY" && reaches(ask, o), o.side == "SELL" && reaches(bid, o):
			o.conn = v.userConn(o.conn)
			o.conn.fill(o, now, o.price, o.qty-o.filled, false)
			s.noteOwn(o, now)
		default:
			kept = append(kept, o)
		}
	}
	clear(s.orders[len(kept):])
	s.orders = kept
}

func (c *conn) cancelOrder(req apiRequest) {
	v := c.v
	p := req.Params
	if code, msg := c.checkRequest(&req); code != 0 {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, code, msg))
		return
	}
	s, ok := v.mkt.byName[param(p, "symbol")]
	if !ok {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -1121, "Invalid symbol."))
		return
	}
	if code, msg := checkIDs(p); code != 0 {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, code, msg))
		return
	}
	// cancelRestrictions (WebSocket API "Cancel order"): ONLY_NEW or
	// ONLY_PARTIALLY_FILLED cancels an order in that status only; another
	// value -1145 "Invalid cancelRestrictions".
	restrict := param(p, "cancelRestrictions")
	switch restrict {
	case "", "ONLY_NEW", "ONLY_PARTIALLY_FILLED":
	default:
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -1145, "Invalid cancelRestrictions"))
		return
	}
	id, idSent := orderIDParam(p)
	cid := param(p, "origClientOrderId")
	if !idSent && cid == "" {
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"))
		return
	}
	if idSent && id == 0 {
		// Searched first, and no order has it (0, or past uint64).
		v.rejected.Add(1)
		c.answer(req, apiError(req.ID, 400, -2011, "Unknown order sent."))
		return
	}
	// The cancel's own client order id: newClientOrderId, or one made up.
	cancelID := param(p, "newClientOrderId")
	if cancelID == "" {
		cancelID = "sim-cancel-" + strconv.FormatUint(v.cancels.Add(1), 10)
	}
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, o := range s.orders {
		if namedBy(o, id, cid) {
			if restrict != "" && o.status != strings.TrimPrefix(restrict, "ONLY_") {
				// "If the order did not pass the conditions for
				// cancelRestrictions": it stays.
				v.rejected.Add(1)
				c.answer(req, apiError(req.ID, 400, -2011, "Order was not canceled due to cancel restrictions."))
				return
			}
			was := s.top()
			s.orders = slices.Delete(s.orders, i, i+1)
			now := c.v.now().UnixMilli()
			v.ownChanged(s, o, now, was)
			o.status, o.updated = "CANCELED", now
			c.answer(req, apiResult(req.ID, cancelResult(o, now, cancelID)))
			o.conn = v.userConn(o.conn)
			o.conn.execReportIDs(o, now, cancelID, o.clientID, "CANCELED", "CANCELED", "NONE", 0, 0)
			v.acct.release(o, -1)
			o.conn.accountChanged(now, s.base, s.quote)
			return
		}
	}
	v.rejected.Add(1)
	c.answer(req, apiError(req.ID, 400, -2011, "Unknown order sent."))
}

// placeResult is the result of order.place in the format respType names:
// ACK (the ids), RESULT (the order) or FULL (the order and the fills it
// took at once, whose trade ids start at firstTrade, and the matches
// self-trade prevention prevented: STP FAQ, "preventedMatches", each with
// takerPreventedQuantity when the taker expired and makerPreventedQuantity
// when the maker did).
func placeResult(o *order, now int64, respType, status string, fills []fillPlan, firstTrade uint64, prevented []preventedMatch) []byte {
	if respType == "ACK" {
		return marshal(&struct {
			Symbol        string `json:"symbol"`
			OrderID       uint64 `json:"orderId"`
			OrderListID   int    `json:"orderListId"`
			ClientOrderID string `json:"clientOrderId"`
			TransactTime  int64  `json:"transactTime"`
		}{o.symbol.name, o.id, -1, o.clientID, now})
	}
	type result struct {
		orderFields
		TransactTime      int64          `json:"transactTime"`
		OrigQuoteOrderQty jsontext.Value `json:"origQuoteOrderQty"`
	}
	r := result{orderFieldsOf(o, status), now, decValue(o.quoteQty)}
	r.PreventedMatchID = nil // the place answer has it in preventedMatches
	if respType == "RESULT" {
		return marshal(&r)
	}
	type fill struct {
		Price           jsontext.Value `json:"price"`
		Qty             jsontext.Value `json:"qty"`
		Commission      jsontext.Value `json:"commission"`
		CommissionAsset string         `json:"commissionAsset"`
		TradeID         uint64         `json:"tradeId"`
	}
	type placePrevented struct {
		ID         int64          `json:"preventedMatchId"`
		MakerOrder uint64         `json:"makerOrderId"`
		Price      jsontext.Value `json:"price"`
		TakerQty   jsontext.Value `json:"takerPreventedQuantity,omitzero"`
		MakerQty   jsontext.Value `json:"makerPreventedQuantity,omitzero"`
	}
	full := struct {
		result
		Fills     []fill           `json:"fills"`
		Prevented []placePrevented `json:"preventedMatches,omitzero"`
	}{result: r, Fills: make([]fill, 0, len(fills))}
	for i, f := range fills {
		full.Fills = append(full.Fills, fill{decValue(f.px), decValue(f.qty), decValue(feeOf(f.qty)), o.symbol.base, firstTrade + uint64(i)})
	}
	for _, p := range prevented {
		full.Prevented = append(full.Prevented, placePrevented{p.id, p.maker.id, decValue(p.price), optDec(p.takerQty), optDec(p.makerQty)})
	}
	return marshal(&full)
}

// cancelResult is the result of order.cancel: the canceled order's client
// id is origClientOrderId, clientOrderId is the cancel's own.
func cancelResult(o *order, now int64, cancelID string) []byte {
	f := orderFieldsOf(o, "CANCELED")
	f.ClientOrderID = cancelID
	return marshal(&struct {
		OrigClientOrderID string `json:"origClientOrderId"`
		orderFields
		TransactTime int64 `json:"transactTime"`
	}{o.clientID, f, now})
}

// orderFields are the members every order answer has (order.place,
// order.cancel, order.status, openOrders.status), and their values.
type orderFields struct {
	Symbol        string         `json:"symbol"`
	OrderID       uint64         `json:"orderId"`
	OrderListID   int            `json:"orderListId"`
	ClientOrderID string         `json:"clientOrderId"`
	Price         jsontext.Value `json:"price"`
	OrigQty       jsontext.Value `json:"origQty"`
	ExecutedQty   jsontext.Value `json:"executedQty"`
	CumQuoteQty   jsontext.Value `json:"cummulativeQuoteQty"`
	Status        string         `json:"status"`
	TimeInForce   string         `json:"timeInForce"`
	Type          string         `json:"type"`
	Side          string         `json:"side"`
	WorkingTime   int64          `json:"workingTime"`
	STPMode       string         `json:"selfTradePreventionMode"`
	// An order self-trade prevention expired (STP FAQ's "Order Status"
	// examples): its prevented match and quantity.
	PreventedMatchID *int64         `json:"preventedMatchId,omitzero"`
	PreventedQty     jsontext.Value `json:"preventedQuantity,omitzero"`
}

func orderFieldsOf(o *order, status string) orderFields {
	f := orderFields{Symbol: o.symbol.name, OrderID: o.id, OrderListID: -1, ClientOrderID: o.clientID, Price: decValue(o.price),
		OrigQty: decValue(o.qty), ExecutedQty: decValue(o.filled), CumQuoteQty: decValue(o.quote), Status: status,
		TimeInForce: tifOrGTC(o.tif), Type: o.typ, Side: o.side, WorkingTime: o.created, STPMode: o.stp}
	if o.prevented > 0 {
		id := o.preventedID
		f.PreventedMatchID, f.PreventedQty = &id, decValue(o.prevented)
	}
	return f
}

func tifOrGTC(t string) string {
	if t == "" {
		return "GTC"
	}
	return t
}

// execReport sends an executionReport on the connection's user-data
// subscription, wrapped as the WS-API wraps it, and on every other WS-API
// connection's (Binance sends an account's events to each of its
// user-data subscriptions: WebSocket API "User Data Stream requests",
// "You can have only one active subscription for a given account on a
// given connection" — a client holding two connections, as across its
// make-before-break replacement, hears a report on both).
func (c *conn) execReport(o *order, now int64, execType, status, reason string, lastPx, lastQty int64) {
	c.execReportIDs(o, now, o.clientID, "", execType, status, reason, lastPx, lastQty)
}

// execReportIDs is execReport with the report's client order ids: "c" is
// the id of the request that caused it (a cancel's own), "C" the
// original order's when a cancel caused it, else "". The other
// subscriptions hear it also when c has none (an order placed on a
// connection that does not listen), as they hear the account positions
// after it (accountChanged).
func (c *conn) execReportIDs(o *order, now int64, clientID, origClientID, execType, status, reason string, lastPx, lastQty int64) {
	if w, others := c.newExec(o, now, clientID, origClientID, execType, status, reason, lastPx, lastQty); w != nil {
		c.publishExec(w, others)
	}
}

// preventionReport is the executionReport of o expired by self-trade
// prevention (spot "User Data Stream", "Order Update": execution type
// TRADE_PREVENTION, status EXPIRED_IN_MATCH; v the preventedMatchId, U
// the counter order's id, A the order's prevented quantity, B this
// match's, the same for the EXPIRE_* modes: STP FAQ, "For EXPIRE_TAKER,
// EXPIRE_MAKER, and EXPIRE_BOTH modes this will always be the same value
// as B"; u, the trade group's id, left out: the account has none).
func (c *conn) preventionReport(o *order, now, matchID int64, counter uint64, qty int64) {
	w, others := c.newExec(o, now, o.clientID, "", "TRADE_PREVENTION", "EXPIRED_IN_MATCH", "NONE", 0, 0)
	if w == nil {
		return
	}
	w.Event.PreventedMatchID, w.Event.CounterOrderID = &matchID, &counter
	w.Event.PreventedQty, w.Event.LastPreventedQty = decValue(qty), decValue(qty)
	c.publishExec(w, others)
}

// newExec is the executionReport execReportIDs sends, and the other
// user-data connections; nil when nobody listens.
func (c *conn) newExec(o *order, now int64, clientID, origClientID, execType, status, reason string, lastPx, lastQty int64) (*execWrapper, []*conn) {
	others := c.v.userConns()
	if c.userSubID() < 0 && len(others) == 0 {
		return nil, nil // nobody listens
	}
	tradeID, maker := int64(-1), false
	if execType == "TRADE" && len(o.trades) > 0 {
		last := o.trades[len(o.trades)-1]
		tradeID, maker = int64(last.id), last.maker
	}
	fee := int64(0)
	var feeAsset *string // null when nothing was filled
	if lastQty > 0 {
		fee = feeOf(lastQty)
		feeAsset = &o.symbol.base
	}
	w := &execWrapper{Event: execEvent{
		Event: "executionReport", EventTime: now, Symbol: o.symbol.name, ClientOrderID: clientID,
		Side: o.side, Type: o.typ, TIF: tifOrGTC(o.tif), Qty: decValue(o.qty), Price: decValue(o.price),
		StopPrice: "0.00000000", IcebergQty: "0.00000000", OrderListID: -1, OrigClientOrderID: origClientID,
		ExecType: execType, Status: status, Reject: reason, OrderID: o.id,
		LastQty: decValue(lastQty), CumQty: decValue(o.filled), LastPrice: decValue(lastPx),
		Fee: decValue(fee), FeeAsset: feeAsset, TransactTime: now, TradeID: tradeID, Ignore: o.id * 2,
		Working: status == "NEW" || status == "PARTIALLY_FILLED",
		Maker:   maker, // the fill's side, not its price: a taker may fill at its limit

		Created: o.created, CumQuote: decValue(o.quote), LastQuote: decValue(mulDec(lastPx, lastQty)),
		QuoteOrderQty: decValue(o.quoteQty), WorkingTime: o.created, STPMode: o.stp,
	}}
	return w, others
}

// publishExec sends w on c's subscription and on the others'.
func (c *conn) publishExec(w *execWrapper, others []*conn) {
	c.v.execs.Add(1) // one event, however many subscriptions hear it
	c.sendExec(w)
	for _, x := range others {
		if x != c {
			x.sendExec(w)
		}
	}
}

// sendExec sends w on c's user-data subscription, if it has one, naming
// it in subscriptionId.
func (c *conn) sendExec(w *execWrapper) {
	if w.SubscriptionID = c.userSubID(); w.SubscriptionID >= 0 {
		c.reply(marshal(w))
	}
}

// execWrapper is an executionReport wrapped as the WS-API's user-data
// subscription sends it; the field order is Binance's.
type execWrapper struct {
	SubscriptionID int       `json:"subscriptionId"`
	Event          execEvent `json:"event"`
}

type execEvent struct {
	Event             string         `json:"e"`
	EventTime         int64          `json:"E"`
	Symbol            string         `json:"s"`
	ClientOrderID     string         `json:"c"`
	Side              string         `json:"S"`
	Type              string         `json:"o"`
	TIF               string         `json:"f"`
	Qty               jsontext.Value `json:"q"`
	Price             jsontext.Value `json:"p"`
	StopPrice         string         `json:"P"`
	IcebergQty        string         `json:"F"`
	OrderListID       int            `json:"g"`
	OrigClientOrderID string         `json:"C"`
	ExecType          string         `json:"x"`
	Status            string         `json:"X"`
	Reject            string         `json:"r"`
	OrderID           uint64         `json:"i"`
	LastQty           jsontext.Value `json:"l"`
	CumQty            jsontext.Value `json:"z"`
	LastPrice         jsontext.Value `json:"L"`
	Fee               jsontext.Value `json:"n"`
	FeeAsset          *string        `json:"N"`
	TransactTime      int64          `json:"T"`
	TradeID           int64          `json:"t"`
	PreventedMatchID  *int64         `json:"v,omitzero"`
	Ignore            uint64         `json:"I"`
	Working           bool           `json:"w"`
	Maker             bool           `json:"m"`
	Ignore2           bool           `json:"M"`
	Created           int64          `json:"O"`
	CumQuote          jsontext.Value `json:"Z"`
	LastQuote         jsontext.Value `json:"Y"`
	QuoteOrderQty     jsontext.Value `json:"Q"`
	WorkingTime       int64          `json:"W"`
	STPMode           string         `json:"V"`
	CounterOrderID    *uint64        `json:"U,omitzero"`
	PreventedQty      jsontext.Value `json:"A,omitzero"`
	LastPreventedQty  jsontext.Value `json:"B,omitzero"`
}

// decValue is v (1e-8 units) as a quoted JSON string value of its own.
func decValue(v int64) jsontext.Value {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	return append(fmtDec(b, v), '"')
}
