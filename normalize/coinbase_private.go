package normalize

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// cbUserOrderMsg is one order of an Advanced Trade "user" channel event
// (Coinbase Advanced Trade WebSocket, "User channel"; a JWT is required,
// see [CoinbaseSubscribeUser]): {"channel":"user","timestamp",
// "sequence_num","events":[{"type":"snapshot"|"update","orders":[…]}]}.
// Open orders come first in "snapshot" events (batched by 50), then every
// change of an order as an "update" with the order's whole state.
//
// Coinbase sends cumulative values only (cumulative_quantity,
// filled_value, total_fees, avg_price), never the fill itself. The parser
// keeps, per order, what it last reported — whichever connection reported
// it: the account's orders are the same on every connection, and during
// a make-before-break rotation both connections report each of them —
// and a report whose cumulative_quantity grew is an ExecTrade report: its
// LastFillQty is the growth, LastFillPrice the growth of filled_value
// divided by it, Fee the growth of total_fees. The same report from the
// other connection has grown nothing and is no fill. A snapshot of an
// order first seen only sets the baseline; a snapshot of a known order
// (the open orders a new connection restates) reports the growth since
// its last report, the fills made while no connection reported it, and
// without growth, in the status last reported, is ExecOrderStatus (FIX
// ExecType I: nothing happened to the order; not a second ExecNew after
// every reconnect).
// Reports lost to a sequence gap (a gap marker says so) are not lost
// fills: the next report's growth covers them, as one fill at their
// average price; a report behind the last one (a stale update) is no
// fill and leaves the baseline where it was. An order is forgotten once
// its status is final (the latest maxCoinbaseDone final orders are
// remembered with their final values: a final report the venue restates
// is no second fill); at most maxCoinbaseOrders are followed per parser:
// when that many are, those no report of the newest connection named
// (orders that ended while no connection was up) are forgotten, and if
// none was, a new order's reports say no fill (ExecType from the status,
// LastFill zero) until one of the followed orders ends.
//
//   - order_id, client_order_id: VenueOrderID, ClientOrderID.
//   - status: PENDING and QUEUED (PendingNew), OPEN and EDIT_QUEUED (New,
//     or PartiallyFilled once cumulative_quantity > 0), FILLED,
//     CANCEL_QUEUED (PendingCancel), CANCELLED, EXPIRED, FAILED
//     (Rejected). Any other word is a *ParseError wrapping
//     ErrUnknownStatus; no fill is lost by it, as the order's growth is
//     reported by its next report.
//   - order_side BUY, SELL; order_type LIMIT, MARKET, STOP_LIMIT, STOP
//     (StopLoss), BRACKET (either spelling: "Limit", "Stop Limit");
//     time_in_force
//     GOOD_UNTIL_CANCELLED and GOOD_UNTIL_DATE_TIME (GTC),
//     IMMEDIATE_OR_CANCEL, FILL_OR_KILL; post_only makes a limit order
//     LimitMaker.
//   - limit_price, stop_price, avg_price: Price, StopPrice, AvgPrice;
//     cumulative_quantity, leaves_quantity, filled_value: CumFillQty,
//     RemainingQty, CumQuoteQty; Qty is their sum.
//   - FeeAsset is the product's quote asset (spot fees are charged in it);
//     Coinbase does not name it.
//   - IsMaker: the user channel carries no liquidity flag, so false here
//     means "not known", not "taker" (the schema has no third state yet),
//     except on a fill of a post-only order (LimitMaker), which is true:
//     Coinbase rejects a post-only order any part of which would take
//     liquidity ("Post Only", Coinbase Exchange and Advanced Trade "Create
//     Order"), so its every fill made liquidity: "A Limit Order with
//     'post-only' selected will always be a Maker Order. 'Post only'
//     orders cannot be placed during an Auction" (Coinbase Exchange
//     Trading Rules 1.33, which govern Advanced Trade's orders too); a
//     stop-limit's post_only is not read (its Type stays StopLimit, its
//     IsMaker false). [ParseCoinbaseFills]
//     reads List Fills' liquidity_indicator for a fill's maker side.
//   - the frame's timestamp is ExchangeTS and TransactTime, creation_time
//     OrderCreated; reject_reason or cancel_reason RejectReason.
//   - an order followed whose limit_price or size (cumulative_quantity +
//     leaves_quantity) changed without a fill was edited ("Edit Order"):
//     its report is ExecAmendment, not a second New.
//   - trigger_status (STOP_PENDING, STOP_TRIGGERED, INVALID_ORDER_TYPE):
//     the first report of a followed stop order that says STOP_TRIGGERED
//     is ExecTriggered (unless it is a fill or final), as the other
//     venues report a conditional order's trigger.
type cbUserOrderMsg struct {
	OrderID       ident   `json:"order_id"`
	ClientID      ident   `json:"client_order_id"`
	ProductID     text    `json:"product_id"`
	ProductType   text    `json:"product_type"`
	Side          text    `json:"order_side"`
	OrderType     text    `json:"order_type"`
	TimeInForce   text    `json:"time_in_force"`
	PostOnly      boolish `json:"post_only"`
	Status        text    `json:"status"`
	LimitPrice    optNum  `json:"limit_price"`
	StopPrice     optNum  `json:"stop_price"`
	AvgPrice      optNum  `json:"avg_price"`
	CumQty        optNum  `json:"cumulative_quantity"`
	LeavesQty     optNum  `json:"leaves_quantity"`
	FilledValue   optNum  `json:"filled_value"`
	TotalFees     optNum  `json:"total_fees"`
	RejectReason  reason  `json:"reject_reason"`
	CancelReason  reason  `json:"cancel_reason"`
	CreationTime  text    `json:"creation_time"`
	TriggerStatus text    `json:"trigger_status"`
}

// boolish is a boolean Coinbase may send as a JSON boolean or as its text
// ("post_only":"false").
type boolish struct{ v bool }

func (b *boolish) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	switch string(unquoted(v)) {
	case "true":
		b.v = true
	case "false", "null", "":
	default:
		return wrapBad("want a boolean")
	}
	return nil
}

var (
	coinbaseStatuses = map[string]schema.OrderStatus{
		"PENDING": schema.StatusPendingNew, "QUEUED": schema.StatusPendingNew,
		"OPEN": schema.StatusNew, "EDIT_QUEUED": schema.StatusNew, "FILLED": schema.StatusFilled,
		"CANCEL_QUEUED": schema.StatusPendingCancel, "CANCELLED": schema.StatusCanceled,
		"EXPIRED": schema.StatusExpired, "FAILED": schema.StatusRejected,
	}
	coinbaseStatusExecs = map[schema.OrderStatus]schema.ExecType{
		schema.StatusPendingNew: schema.ExecPendingNew, schema.StatusNew: schema.ExecNew,
		schema.StatusPendingCancel: schema.ExecPendingCancel, schema.StatusCanceled: schema.ExecCanceled,
		schema.StatusExpired: schema.ExecExpired, schema.StatusRejected: schema.ExecRejected,
		// no growth of cumulative_quantity since the order's last report
		// (or a snapshot, the baseline): its status restated, no fill
		schema.StatusPartiallyFilled: schema.ExecOrderStatus, schema.StatusFilled: schema.ExecOrderStatus,
	}
	coinbaseOrderTypes = map[string]schema.OrderType{
		"LIMIT": schema.OrderTypeLimit, "Limit": schema.OrderTypeLimit,
		"MARKET": schema.OrderTypeMarket, "Market": schema.OrderTypeMarket,
		"STOP_LIMIT": schema.OrderTypeStopLossLimit, "Stop Limit": schema.OrderTypeStopLossLimit, "StopLimit": schema.OrderTypeStopLossLimit,
		// Coinbase Advanced Trade order_type (List Orders: "MARKET,
		// LIMIT, STOP, STOP_LIMIT, BRACKET"), in the user channel's title
		// case too: STOP a stop order at market, BRACKET a limit order
		// with its stop trigger (trigger_bracket_gtc, _gtd).
		"STOP": schema.OrderTypeStopLoss, "Stop": schema.OrderTypeStopLoss,
		"BRACKET": schema.OrderTypeBracket, "Bracket": schema.OrderTypeBracket,
		// Not mapped, so Unknown (the report is delivered, typed
		// Unknown): UNKNOWN_ORDER_TYPE (the docs' own "unknown"); TWAP
		// (order_configuration twap_limit_gtd: a parent that places
		// number_buckets slices of bucket_size over start_time–end_time,
		// up to limit_price; it never rests whole, so neither Limit nor
		// Market fits — as OKX's twap) and SCALED (scaled_limit_gtc: a
		// parent of num_orders limit orders between min_price and
		// max_price: no one price). Coinbase "Get Order"
		// (order_configuration) names both; List Orders' order_type enum
		// lists only the six above.
	}
	coinbaseTIFs = map[string]schema.TimeInForce{
		"GOOD_UNTIL_CANCELLED": schema.TIFGTC, "GOOD_UNTIL_DATE_TIME": schema.TIFGTC,
		"IMMEDIATE_OR_CANCEL": schema.TIFIOC, "FILL_OR_KILL": schema.TIFFOK,
	}
)

// maxCoinbaseOrders bounds the orders a Coinbase parser follows.
const maxCoinbaseOrders = 1 << 16

// maxCoinbaseDone is how many of the latest orders seen final a Coinbase
// parser remembers, so that a restated final report is no second fill.
const maxCoinbaseDone = 256

// cbOrders is what the parser last reported of each open order, and of
// the latest orders seen final.
type cbOrders struct {
	newest   uint64               // the newest connection that reported
	m        map[string]*cbFilled // pointers: a known order is updated without a map assignment (which would copy its key)
	done     [maxCoinbaseDone]cbDone
	nextDone int
	pending  cbPending // the change of the report being read (commit)
}

// cbFilled is what was last reported of an order, and on which
// connection.
type cbFilled struct {
	qty, value, fees schema.Decimal
	// price and total are the order's limit price and size (cumulative
	// plus leaves quantity): an edit changes them.
	price, total schema.Decimal
	conn         uint64
	triggered    bool               // its trigger_status said STOP_TRIGGERED
	status       schema.OrderStatus // the status last reported
}

// cbDone is an order seen final and what was last reported of it.
type cbDone struct {
	id   schema.ID
	last cbFilled
}

// finished returns what was reported of order id when it was seen final,
// or nil. A linear scan: it runs on an order's first report only.
func (o *cbOrders) finished(id *schema.ID) *cbDone {
	for i := range o.done {
		if d := &o.done[i]; !d.id.IsZero() && d.id == *id {
			return d
		}
	}
	return nil
}

func (m *cbUserOrderMsg) fill(f *filler) {
	x := f.ev.UseExec()
	f.needID("order_id", m.OrderID)
	f.need("status", m.Status.ok)
	f.need("product_id", m.ProductID.ok)
	// Fills are the growth of cumulative_quantity: absent, a later report
	// would count the whole of it again.
	f.need("cumulative_quantity", m.CumQty.sent)
	f.need("leaves_quantity", m.LeavesQty.sent)
	f.symbol("product_id", &m.ProductID)
	f.id(&x.VenueOrderID, m.OrderID)
	f.id(&x.ClientOrderID, m.ClientID)
	f.side(&x.Side, "order_side", &m.Side)
	// An unknown status drops the report before its growth is recorded:
	// the next report of the order carries the fill.
	f.status(&x.Status, "status", coinbaseStatuses, &m.Status, false)
	x.Type = enum(coinbaseOrderTypes, &m.OrderType)
	if m.PostOnly.v && x.Type == schema.OrderTypeLimit {
		x.Type = schema.OrderTypeLimitMaker
	}
	x.TimeInForce = enum(coinbaseTIFs, &m.TimeInForce)
	f.price(&x.Price, "limit_price", m.LimitPrice.num)
	f.price(&x.StopPrice, "stop_price", m.StopPrice.num)
	f.price(&x.AvgPrice, "avg_price", m.AvgPrice.num)
	f.price(&x.CumFillQty, "cumulative_quantity", m.CumQty.num)
	f.price(&x.RemainingQty, "leaves_quantity", m.LeavesQty.num)
	f.price(&x.CumQuoteQty, "filled_value", m.FilledValue.num)
	var fees schema.Decimal
	f.decimal(&fees, m.TotalFees.num)
	f.time(&x.OrderCreated, "creation_time", &m.CreationTime)
	if f.err != nil {
		return
	}
	if q, err := x.CumFillQty.Add(x.RemainingQty); err == nil {
		x.Qty = q
	}
	if x.Status == schema.StatusNew && x.CumFillQty.Sign() > 0 {
		x.Status = schema.StatusPartiallyFilled
	}
	x.ExecType = coinbaseStatusExecs[x.Status]
	x.TransactTime = f.p.env.ts
	if pt := m.ProductType.bytes(); len(pt) == 0 || string(pt) == "SPOT" {
		if i := lastDash(f.ev.Symbol); i >= 0 {
			_ = x.FeeAsset.Set(f.ev.Symbol[i+1:])
		}
	}
	switch {
	case !m.RejectReason.empty():
		x.RejectReason = f.p.reason(&m.RejectReason)
	case !m.CancelReason.empty():
		x.RejectReason = f.p.reason(&m.CancelReason)
	}
	st := f.p.state.(*cbState)
	st.orders.fill(f, x, fees, string(st.ev.Type.bytes()) == "snapshot", string(m.TriggerStatus.bytes()) == "STOP_TRIGGERED")
}

// fill reports the fill since the order's last report (a report whose
// cumulative quantity grew) and holds where the order now is, remembered
// once the report is accepted (commit): a report refused after it is read
// (its frame's timestamp no instant) leaves the order as it was, and the
// next report carries the fill.
func (o *cbOrders) fill(f *filler, x *schema.Execution, fees schema.Decimal, snapshot, triggered bool) {
	conn := f.p.raw.ConnID
	id := x.VenueOrderID.Bytes()
	var last cbFilled
	at, known := o.m[string(id)]
	var done *cbDone
	if known {
		last = *at
	} else if done = o.finished(&x.VenueOrderID); done != nil {
		last = done.last // a final order restated: only growth past its final report is a fill
	}
	now := cbFilled{qty: x.CumFillQty, value: x.CumQuoteQty, fees: fees, price: x.Price, total: x.Qty, conn: conn, triggered: triggered || last.triggered, status: x.Status}
	switch {
	case triggered && known && !last.triggered && !x.Status.Final():
		x.ExecType = schema.ExecTriggered // the stop of an order followed was reached (a fill, below, says Trade)
	case known && !x.Status.Final() && now.qty.Equal(last.qty) && (!now.price.Equal(last.price) || !now.total.Equal(last.total)):
		// Edit Order: a new limit price or size, in place, no fill.
		x.ExecType = schema.ExecAmendment
	case snapshot && (known || done != nil) && x.Status == last.status:
		// A new connection's snapshot of an order reported already, as
		// it was: where it stands, nothing new (a fill, below, says Trade).
		x.ExecType = schema.ExecOrderStatus
	}
	o.pending = cbPending{conn: conn, id: x.VenueOrderID, at: at, done: done, now: now}
	f.memo = o
	switch {
	case done != nil:
		if now.qty.Cmp(done.last.qty) > 0 {
			o.pending.act = cbDoneGrew
		}
	case x.Status.Final():
		o.pending.act = cbEnd
	case known:
		o.pending.act = cbUpdate
		if now.qty.Cmp(last.qty) < 0 { // a stale report (behind the last) keeps the baseline: its growth was counted
			o.pending.act = cbConn
		}
	case len(o.m) < maxCoinbaseOrders || o.stale(max(o.newest, conn)):
		o.pending.act = cbAdd
	default:
		return // not followed: no fill can be told
	}
	if (snapshot && !known && done == nil) || now.qty.Cmp(last.qty) <= 0 {
		return
	}
	dq, err1 := now.qty.Sub(last.qty)
	dv, err2 := now.value.Sub(last.value)
	df, err3 := now.fees.Sub(last.fees)
	if err1 != nil || err2 != nil || err3 != nil {
		f.fail("cumulative_quantity", fmt.Errorf("%w: fill out of range", ErrBadValue))
		return
	}
	x.ExecType, x.LastFillQty, x.Fee = schema.ExecTrade, dq, df
	x.IsMaker = x.Type == schema.OrderTypeLimitMaker // a post-only order never takes; of another, not known
	scale := min(max(x.AvgPrice.Scale(), x.Price.Scale(), dv.Scale())+2, schema.MaxScale)
	if dv.Sign() > 0 {
		if p, err := dv.Div(dq, scale, schema.RoundHalfEven); err == nil {
			x.LastFillPrice = p
		}
	}
}

// cbPending is what an order's report changes in cbOrders, made by commit
// once the report is accepted.
type cbPending struct {
	act  cbAct
	conn uint64
	id   schema.ID
	at   *cbFilled // the order followed, or nil
	done *cbDone   // the order seen final, or nil
	now  cbFilled
}

// cbAct is the change a report makes to the order it names.
type cbAct uint8

const (
	cbKeep     cbAct = iota // nothing of the order (it is not followed)
	cbDoneGrew              // a final order restated with more filled
	cbEnd                   // the order ended: forgotten, among the final
	cbUpdate                // a followed order's new state
	cbConn                  // a stale report: only its connection
	cbAdd                   // the order's first report
)

func (o *cbOrders) commit() {
	c := &o.pending
	o.newest = max(o.newest, c.conn)
	switch c.act {
	case cbDoneGrew:
		c.done.last = c.now
	case cbEnd:
		if c.at != nil {
			delete(o.m, string(c.id.Bytes()))
		}
		o.done[o.nextDone] = cbDone{id: c.id, last: c.now}
		o.nextDone = (o.nextDone + 1) % maxCoinbaseDone
	case cbUpdate:
		*c.at = c.now
	case cbConn:
		c.at.conn = c.conn
	case cbAdd:
		if o.m == nil {
			o.m = make(map[string]*cbFilled)
		}
		if len(o.m) < maxCoinbaseOrders || o.sweep() {
			first := c.now // the order's first report: its key and state are allocated, once per order
			o.m[string(c.id.Bytes())] = &first
		}
	}
	*c = cbPending{}
}

// stale reports whether an order followed was named by no report of
// connection newest or a later one (sweep would forget it).
func (o *cbOrders) stale(newest uint64) bool {
	for _, at := range o.m {
		if at.conn < newest {
			return true
		}
	}
	return false
}

// sweep forgets the orders no report of the newest connection named (they
// ended while no connection was up: their final report never came) and
// reports whether there is room for another order.
func (o *cbOrders) sweep() bool {
	for id, at := range o.m {
		if at.conn < o.newest {
			delete(o.m, id)
		}
	}
	return len(o.m) < maxCoinbaseOrders
}

func lastDash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '-' {
			return i
		}
	}
	return -1
}

// CoinbaseSubscribeUser returns the Advanced Trade subscribe request of the
// authenticated "user" channel for productIDs (none: every product),
// carrying jwt (from [CoinbaseJWT]): {"type":"subscribe","channel":"user",
// "product_ids":[…],"jwt":…}. A JWT expires two minutes after it is made:
// make one per (re)connection.
func CoinbaseSubscribeUser(jwt string, productIDs ...string) ([]byte, error) {
	return CoinbaseSubscribePrivate("user", jwt, productIDs...)
}

// CoinbaseSubscribePrivate returns the subscribe request of channel on
// Advanced Trade's User Order Data endpoint
// (wss://advanced-trade-ws-user.coinbase.com: "heartbeats", "user",
// "futures_balance_summary"), which takes none without a JWT (Coinbase
// "WebSocket endpoints": "A CDP JWT is required"; one per subscribe
// message, from [CoinbaseJWT]): {"type":"subscribe","channel",
// "product_ids":[…],"jwt"}.
func CoinbaseSubscribePrivate(channel, jwt string, productIDs ...string) ([]byte, error) {
	if jwt == "" {
		return nil, fmt.Errorf("%w: the %s channel of the user endpoint needs a JWT", ErrBadValue, channel)
	}
	if err := checkNames("channel", []string{channel}); err != nil {
		return nil, err
	}
	if len(productIDs) > 0 {
		if err := checkNames("product id", productIDs); err != nil {
			return nil, err
		}
	}
	if productIDs == nil {
		productIDs = []string{}
	}
	return marshalRequest(&struct {
		Type       string   `json:"type"`
		Channel    string   `json:"channel"`
		ProductIDs []string `json:"product_ids"`
		JWT        string   `json:"jwt"`
	}{"subscribe", channel, productIDs, jwt})
}

// CoinbaseJWT returns the ES256 JSON Web Token that authenticates a
// Coinbase Advanced Trade WebSocket subscription (Coinbase Developer
// Platform, "API Key Authentication → WebSocket"): header {"alg":"ES256",
// "kid":keyName,"nonce":…,"typ":"JWT"}, claims {"iss":"cdp","nbf":now,
// "exp":now+120,"sub":keyName}, signed with the API key's P-256 private key
// (the "-----BEGIN EC PRIVATE KEY-----" PEM the key was issued with; see
// [ParseCoinbaseKey]). keyName is "organizations/{org}/apiKeys/{key}". The
// nonce is 16 random bytes in hex. now should be the venue's time (apply a
// measured clock offset): Coinbase refuses a token outside nbf..exp.
//
// Ed25519 ("EdDSA") keys are not supported here.
func CoinbaseJWT(keyName string, key *ecdsa.PrivateKey, now time.Time) (string, error) {
	return coinbaseJWT(keyName, key, now, "")
}

// CoinbaseRESTJWT returns the JWT of one Advanced Trade REST request, sent
// as "Authorization: Bearer <jwt>" (Coinbase Developer Platform, "API Key
// Authentication → REST"): [CoinbaseJWT]'s, with the claim "uri": method +
// " " + host + path — "GET api.coinbase.com/api/v3/brokerage/orders/historical/fills",
// the path without its query string. A token serves the one request it
// names, for two minutes: make one per request.
func CoinbaseRESTJWT(keyName string, key *ecdsa.PrivateKey, now time.Time, method, host, path string) (string, error) {
	if method == "" || host == "" || len(path) == 0 || path[0] != '/' {
		return "", fmt.Errorf("%w: a Coinbase REST JWT needs the method, the host and the path", ErrBadValue)
	}
	return coinbaseJWT(keyName, key, now, method+" "+host+path)
}

// coinbaseJWT makes the token; uri, when set, is its "uri" claim.
func coinbaseJWT(keyName string, key *ecdsa.PrivateKey, now time.Time, uri string) (string, error) {
	if keyName == "" || key == nil || key.Curve != elliptic.P256() {
		return "", fmt.Errorf("%w: a Coinbase JWT needs the key's name and its P-256 private key", ErrBadValue)
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	header, err := json.Marshal(&struct {
		Alg   string `json:"alg"`
		Kid   string `json:"kid"`
		Nonce string `json:"nonce"`
		Typ   string `json:"typ"`
	}{"ES256", keyName, hex.EncodeToString(nonce[:]), "JWT"})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	claims, err := json.Marshal(&struct {
		Iss string `json:"iss"`
		Nbf int64  `json:"nbf"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
		URI string `json:"uri,omitempty"`
	}{"cdp", now.Unix(), now.Add(2 * time.Minute).Unix(), keyName, uri})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return "", fmt.Errorf("normalize: signing a Coinbase JWT: %w", err)
	}
	var sig [64]byte // JWS ES256: R and S, 32 bytes each, big-endian (RFC 7518 §3.4)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig[:]), nil
}

// ParseCoinbaseKey reads a Coinbase API key's private key: a PEM "EC
// PRIVATE KEY" (SEC 1) or "PRIVATE KEY" (PKCS #8) block holding a P-256
// key. Keys pasted with literal "\n" sequences should be unescaped first.
func ParseCoinbaseKey(pemText []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(pemText)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block in the Coinbase key", ErrBadValue)
	}
	var key *ecdsa.PrivateKey
	switch block.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadValue, err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadValue, err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: the Coinbase key is not an EC key", ErrBadValue)
		}
		key = ek
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrBadValue, block.Type)
	}
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: the Coinbase key is not on P-256", ErrBadValue)
	}
	return key, nil
}
