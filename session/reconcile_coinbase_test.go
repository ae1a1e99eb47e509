package session_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// cbSim is Coinbase Advanced Trade on loopback, keeping orders placed
// elsewhere (the session places none on Coinbase). Its user channel (the
// subscription's JWT checked; cut on demand, the next subscription held
// while the test makes the venue act) sends every subscription a snapshot
// of the open orders, then every change of an order as an update, each
// with the order's cumulative values: the channel carries no fill of its
// own. Its REST queries, each with a JWT of its own checked as Coinbase
// does (ES256 signature with the key's public half, sub, the uri claim
// "GET host/path", nbf ≤ now ≤ exp = nbf + 120 s), answer from the same
// orders: Get Order (404 for an order it does not have), List Fills
// (order_ids, limit ≤ 100, cursor), List Orders (order_status OPEN,
// has_next, cursor).
type cbSim struct {
	*fakePrivate
	t *testing.T

	mu       sync.Mutex
	orders   map[string]*cbSimOrder
	n        int
	ms       int64                    // the venue's clock, Unix ms: one tick per event
	subs     map[*websocket.Conn]bool // subscribed user connections
	pending  []*websocket.Conn        // subscribed, snapshot held (holdSnapshot)
	holdSnap bool                     // the next subscriptions' snapshots wait for sendSnapshot
	fail     []string                 // answers (status + " " + body) to the next REST queries
	failOn   string                   // of this path only, when set
	queries  map[string]int           // REST queries by path (Get Order: cbOrderAt)
	badJWT   []string                 // why REST queries' JWTs did not verify
	stuck    bool                     // List Fills and List Orders name the same cursor, and a next page, for ever
	lose     bool                     // user frames are lost on the way: their connection's sequence_num is used, nothing sent
}

type cbSimOrder struct {
	id, cl                string
	qty, cum, value, fees schema.Decimal
	status                string
	fills                 []cbSimFill
	created, lastFill     int64
}

type cbSimFill struct {
	id         string
	qty, price schema.Decimal
	fee        schema.Decimal
	ms         int64
}

const (
	cbKeyName  = "organizations/o/apiKeys/k"
	cbOrderAt  = "/api/v3/brokerage/orders/historical/"
	cbFillsAt  = "/api/v3/brokerage/orders/historical/fills"
	cbOrdersAt = "/api/v3/brokerage/orders/historical/batch"
	cbProducts = `{"products":[{"product_id":"BTC-USD","base_currency_id":"BTC","quote_currency_id":"USD","price_increment":"0.01",` +
		`"base_increment":"0.00000001","base_min_size":"0.00000001","base_max_size":"3400","quote_min_size":"1","quote_max_size":"150000000",` +
		`"product_type":"SPOT"}],"num_products":1}`
)

func newCBSim(t *testing.T) *cbSim {
	v := &cbSim{fakePrivate: newFakePrivate(t, schema.VenueCoinbase, nil), t: t, orders: map[string]*cbSimOrder{},
		ms: 1_700_000_000_000, subs: map[*websocket.Conn]bool{}, queries: map[string]int{}}
	v.fakePrivate.mu.Lock()
	v.onSubscribe = v.subscribed
	v.fakePrivate.mu.Unlock()
	v.mux.HandleFunc(cbOrderAt, v.serveREST)
	v.mux.HandleFunc(cbFillsAt, v.serveREST)
	v.mux.HandleFunc(cbOrdersAt, v.serveREST)
	v.mux.HandleFunc("/api/v3/brokerage/market/products", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, cbProducts) })
	return v
}

// subscribed sends a user subscription its snapshot (unless held), before
// the venue's ack.
func (v *cbSim) subscribed(c *websocket.Conn, channels []string) {
	if !slices.Contains(channels, "user") {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.holdSnap {
		v.pending = append(v.pending, c)
		return
	}
	v.snapshotTo(c)
}

// sendSnapshot sends the held subscriptions their snapshot: from then on
// they are streamed every change.
func (v *cbSim) sendSnapshot() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.holdSnap = false
	for _, c := range v.pending {
		v.snapshotTo(c)
	}
	v.pending = nil
}

func (v *cbSim) snapshotTo(c *websocket.Conn) {
	var open []string
	for _, o := range v.orders {
		if o.status == "OPEN" {
			open = append(open, v.userOrder(o))
		}
	}
	v.subs[c] = true
	v.write(c, "snapshot", open)
}

// write sends one user-channel frame to c (caller holds v.mu), numbered
// in the connection's one count of messages (send).
func (v *cbSim) write(c *websocket.Conn, kind string, orders []string) {
	msg := `{"channel":"user","client_id":"","timestamp":"` + v.rfc(v.ms) + `","sequence_num":0` +
		`,"events":[{"type":"` + kind + `","orders":[` + strings.Join(orders, ",") + `]}]}`
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	if v.send(ctx, c, []byte(msg), v.lose) != nil {
		delete(v.subs, c)
	}
}

// push streams the order's state to every subscribed connection (caller
// holds v.mu).
func (v *cbSim) push(o *cbSimOrder) {
	for c := range v.subs {
		v.write(c, "update", []string{v.userOrder(o)})
	}
}

func (v *cbSim) rfc(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// open makes an order placed elsewhere, resting, and streams it.
func (v *cbSim) open(cl, qty string) *cbSimOrder {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.n++
	v.ms++
	o := &cbSimOrder{id: "5f1c0a8e-0000-4000-8000-" + strconv.FormatInt(int64(100000000000+v.n), 10), cl: cl, qty: d(qty), status: "OPEN", created: v.ms}
	v.orders[o.id] = o
	v.push(o)
	return o
}

// fill fills qty of the order at price, n times (the rest when qty is ""),
// streaming each change.
func (v *cbSim) fill(o *cbSimOrder, n int, qty, price string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for range n {
		q, _ := o.qty.Sub(o.cum)
		if qty != "" {
			q = d(qty)
		}
		v.ms++
		p := d(price)
		value, _ := q.Mul(p)
		fee, _ := value.Mul(d("0.006"))
		o.fills = append(o.fills, cbSimFill{id: "tr-" + strconv.FormatInt(v.ms, 10) + "-" + strconv.Itoa(len(o.fills)), qty: q, price: p, fee: fee, ms: v.ms})
		o.cum, _ = o.cum.Add(q)
		o.value, _ = o.value.Add(value)
		o.fees, _ = o.fees.Add(fee)
		o.lastFill = v.ms
		if o.cum.Cmp(o.qty) >= 0 {
			o.status = "FILLED"
		}
		v.push(o)
	}
}

// end ends the order with status (CANCELLED, EXPIRED), streamed.
func (v *cbSim) end(o *cbSimOrder, status string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ms++
	o.status = status
	v.push(o)
}

// cut drops the private connection and holds the next subscription: what
// the venue does until release is not streamed.
func (v *cbSim) cut() {
	v.t.Helper()
	v.mu.Lock()
	v.holdLogins()
	clear(v.subs)
	v.pending = nil
	v.mu.Unlock()
	v.dropAll()
	v.waitHeld()
}

// window cuts the private connection, runs during (the venue acts,
// nothing is streamed) and lets the session subscribe again.
func (v *cbSim) window(during func()) {
	v.cut()
	during()
	v.release()
}

func (v *cbSim) failNextOn(path string, n int, answer string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fail, v.failOn = nil, path
	for range n {
		v.fail = append(v.fail, answer)
	}
}

func (v *cbSim) queried(path string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.queries[path]
}

// ---- the venue's messages ----

func (v *cbSim) avg(o *cbSimOrder) string {
	if o.cum.Sign() == 0 {
		return "0"
	}
	a, err := o.value.Div(o.cum, 8, schema.RoundHalfEven)
	require.NoError(v.t, err)
	return a.String()
}

// userOrder is the order as the user channel sends it.
func (v *cbSim) userOrder(o *cbSimOrder) string {
	leaves, _ := o.qty.Sub(o.cum)
	if o.status != "OPEN" {
		leaves = d("0")
	}
	return `{"order_id":"` + o.id + `","client_order_id":"` + o.cl + `","cumulative_quantity":"` + o.cum.String() +
		`","leaves_quantity":"` + leaves.String() + `","avg_price":"` + v.avg(o) + `","filled_value":"` + o.value.String() +
		`","total_fees":"` + o.fees.String() + `","status":"` + o.status + `","product_id":"BTC-USD","creation_time":"` + v.rfc(o.created) +
		`","order_side":"BUY","order_type":"Limit","limit_price":"1000","cancel_reason":"","reject_reason":"","product_type":"SPOT",` +
		`"time_in_force":"GOOD_UNTIL_CANCELLED","trigger_status":"INVALID_ORDER_TYPE"}`
}

// restOrder is the order as Get Order and List Orders answer it.
func (v *cbSim) restOrder(o *cbSimOrder) string {
	last := "null"
	if o.lastFill != 0 {
		last = `"` + v.rfc(o.lastFill) + `"`
	}
	return `{"order_id":"` + o.id + `","product_id":"BTC-USD","user_id":"2222-000000-000000","order_configuration":{"limit_limit_gtc":` +
		`{"base_size":"` + o.qty.String() + `","limit_price":"1000","post_only":false}},"side":"BUY","client_order_id":"` + o.cl +
		`","status":"` + o.status + `","time_in_force":"GOOD_UNTIL_CANCELLED","created_time":"` + v.rfc(o.created) +
		`","completion_percentage":"0","filled_size":"` + o.cum.String() + `","average_filled_price":"` + v.avg(o) +
		`","number_of_fills":"` + strconv.Itoa(len(o.fills)) + `","filled_value":"` + o.value.String() + `","pending_cancel":false,` +
		`"size_in_quote":false,"total_fees":"` + o.fees.String() + `","size_inclusive_of_fees":false,"total_value_after_fees":"0",` +
		`"trigger_status":"INVALID_ORDER_TYPE","order_type":"LIMIT","reject_reason":"","settled":true,"product_type":"SPOT",` +
		`"reject_message":"","cancel_message":"","order_placement_source":"RETAIL_ADVANCED","outstanding_hold_amount":"0",` +
		`"is_liquidation":false,"last_fill_time":` + last + `,"leverage":"","margin_type":"UNKNOWN_MARGIN_TYPE"}`
}

func (v *cbSim) restFill(o *cbSimOrder, f *cbSimFill) string {
	return `{"entry_id":"e-` + f.id + `","trade_id":"` + f.id + `","order_id":"` + o.id + `","trade_time":"` + v.rfc(f.ms) +
		`","trade_type":"FILL","price":"` + f.price.String() + `","size":"` + f.qty.String() + `","commission":"` + f.fee.String() +
		`","product_id":"BTC-USD","sequence_timestamp":"` + v.rfc(f.ms) + `","liquidity_indicator":"MAKER","size_in_quote":false,` +
		`"user_id":"3333-333333-3333333","side":"BUY","retail_portfolio_id":""}`
}

// ---- the REST queries ----

// verified checks a query's JWT as Coinbase does; "" when it passes.
func (v *cbSim) verified(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return "no bearer JWT"
	}
	var header struct {
		Alg   string `json:"alg"`
		Kid   string `json:"kid"`
		Nonce string `json:"nonce"`
	}
	var claims struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		URI string `json:"uri"`
		Nbf int64  `json:"nbf"`
		Exp int64  `json:"exp"`
	}
	for i, dst := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			return "unreadable JWT"
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "bad signature"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	now := v.serverNow().Unix()
	switch {
	case !ecdsa.Verify(v.pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])):
		return "signature does not verify"
	case header.Alg != "ES256" || header.Kid != cbKeyName || header.Nonce == "":
		return "header " + parts[0]
	case claims.Iss != "cdp" || claims.Sub != cbKeyName:
		return "iss/sub"
	case claims.URI != "GET "+r.Host+r.URL.Path:
		return "uri " + claims.URI
	case claims.Exp != claims.Nbf+120 || now < claims.Nbf-1 || now > claims.Exp:
		return "expiry"
	}
	return ""
}

func (v *cbSim) serveREST(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path != cbFillsAt && path != cbOrdersAt {
		path = cbOrderAt
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.queries[path]++
	if why := v.verified(r); why != "" {
		v.badJWT = append(v.badJWT, why)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"UNAUTHENTICATED","code":16,"message":"`+why+`"}`)
		return
	}
	if len(v.fail) > 0 && (v.failOn == "" || v.failOn == path) {
		status, body, _ := strings.Cut(v.fail[0], " ")
		v.fail = v.fail[1:]
		code, _ := strconv.Atoi(status)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
		return
	}
	q := r.URL.Query()
	switch path {
	case cbOrderAt:
		o := v.orders[strings.TrimPrefix(r.URL.Path, cbOrderAt)]
		if o == nil {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"NOT_FOUND","code":5,"message":"order with this orderID was not found","error_details":"order with this orderID was not found"}`)
			return
		}
		_, _ = io.WriteString(w, `{"order":`+v.restOrder(o)+`}`)
	case cbFillsAt:
		limit, _ := strconv.Atoi(q.Get("limit"))
		require.LessOrEqual(v.t, limit, 100, "limit ≤ 100")
		o := v.orders[q.Get("order_ids")]
		require.NotNil(v.t, o, "fills of order %q", q.Get("order_ids"))
		from, _ := strconv.Atoi(strings.TrimPrefix(q.Get("cursor"), "c"))
		var list []string
		for i := len(o.fills) - 1 - from; i >= 0 && len(list) < limit; i-- { // newest first
			list = append(list, v.restFill(o, &o.fills[i]))
		}
		next := ""
		switch {
		case v.stuck:
			next = "c0" // the first page, again and again
		case from+len(list) < len(o.fills):
			next = "c" + strconv.Itoa(from+len(list))
		}
		_, _ = io.WriteString(w, `{"fills":[`+strings.Join(list, ",")+`],"cursor":"`+next+`"}`)
	case cbOrdersAt:
		require.Equal(v.t, "OPEN", q.Get("order_status"))
		var list []string
		for _, o := range v.orders {
			if o.status == "OPEN" {
				list = append(list, v.restOrder(o))
			}
		}
		_, _ = io.WriteString(w, `{"orders":[`+strings.Join(list, ",")+`],"sequence":"0","has_next":`+strconv.FormatBool(v.stuck)+
			`,"cursor":"`+map[bool]string{true: "same"}[v.stuck]+`"}`)
	}
}

// ---- the host ----

// cbRecon is a session following a cbSim's orders, whose execution reports
// and execution-report gap markers the test reads in order.
type cbRecon struct {
	t       *testing.T
	v       *cbSim
	s       *session.Session
	reports chan *schema.ExecReport
	gaps    chan *schema.CanonicalEvent
	probes  int
}

func startCBRecon(t *testing.T, v *cbSim, tweak func(*session.Config)) *cbRecon {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	v.fakePrivate.mu.Lock()
	v.pub = &key.PublicKey
	v.fakePrivate.mu.Unlock()
	h := &cbRecon{t: t, v: v, reports: make(chan *schema.ExecReport, 1024), gaps: make(chan *schema.CanonicalEvent, 16)}
	pools := strictPools()
	cfg := session.Config{Venue: schema.VenueCoinbase, Endpoints: v.endpoints(), Symbols: []string{"BTC-USD"}, Channels: []string{"market_trades"},
		Key: &session.CoinbaseKey{Name: cbKeyName, Key: key}, Client: fastRedial, Pools: pools}
	cfg.Endpoints.Trade = ""
	collectRecon(&cfg, pools, h.reports, h.gaps)
	if tweak != nil {
		tweak(&cfg)
	}
	h.s = start(t, cfg)
	waitConnected(t, h.s)
	require.Eventually(t, func() bool { return v.queried(cbOrdersAt) >= 1 }, generous, pollEvery, "open orders at the first subscription")
	openOrdersRead(t, h.s)
	return h
}

// recv is the next value of ch, or the test fails after generous.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(generous):
		require.FailNow(t, "no "+what)
		var zero T
		return zero
	}
}

func (h *cbRecon) next() *schema.ExecReport {
	h.t.Helper()
	return recv(h.t, h.reports, "execution report")
}

func (h *cbRecon) gap() *schema.CanonicalEvent { h.t.Helper(); return recv(h.t, h.gaps, "gap marker") }

// open makes an order at the venue and waits for its New on the stream.
func (h *cbRecon) open(cl, qty string) *cbSimOrder {
	h.t.Helper()
	o := h.v.open(cl, qty)
	r := h.next()
	require.Equal(h.t, []any{schema.ExecNew, cl, false}, []any{r.ExecType, r.ClientOrderID.String(), r.Reconciled})
	return o
}

// nothingElse checks that the next report is a new order's New: nothing
// was delivered twice or late.
func (h *cbRecon) nothingElse() {
	h.t.Helper()
	h.probes++
	h.open("probe"+strconv.Itoa(h.probes), "0.01")
}

// assertCBFill checks a fill of a buy of qty at price, with Coinbase's fee
// of 0.6 % of the value in USD, maker.
func assertCBFill(t *testing.T, r *schema.ExecReport, reconciled bool, status schema.OrderStatus, last, price, cum, cumQuote, qty string) {
	t.Helper()
	assert.Equal(t, reconciled, r.Reconciled, "reconciled")
	assert.Equal(t, schema.ExecTrade, r.ExecType)
	assert.Equal(t, status, r.Status)
	assert.Equal(t, reconciled, !r.TradeID.IsZero(), "the venue's trade id, which only the fills query has")
	assert.Zero(t, r.LastFillPrice.Cmp(d(price)), "price %s", r.LastFillPrice)
	assert.Zero(t, r.LastFillQty.Cmp(d(last)), "last qty %s", r.LastFillQty)
	assert.Zero(t, r.CumFillQty.Cmp(d(cum)), "cum qty %s", r.CumFillQty)
	assert.Zero(t, r.CumQuoteQty.Cmp(d(cumQuote)), "cum quote %s", r.CumQuoteQty)
	rest, _ := d(qty).Sub(d(cum))
	assert.Zero(t, r.RemainingQty.Cmp(rest), "remaining %s", r.RemainingQty)
	value, _ := d(last).Mul(d(price))
	fee, _ := value.Mul(d("0.006"))
	assert.Zero(t, r.Fee.Cmp(fee), "fee %s, want %s", r.Fee, fee)
	assert.Equal(t, "USD", r.FeeAsset.String())
	assert.Equal(t, "BTC-USD", r.Symbol)
	assert.Equal(t, schema.SideBuy, r.Side)
	assert.Zero(t, r.Qty.Cmp(d(qty)))
	assert.NotZero(t, r.TransactTime)
	if reconciled {
		assert.True(t, r.IsMaker)
	}
}

func (h *cbRecon) noBadJWT() {
	h.t.Helper()
	h.v.mu.Lock()
	defer h.v.mu.Unlock()
	assert.Empty(h.t, h.v.badJWT, "every query's JWT verifies, names its uri and is fresh")
}

// TestCoinbaseReconcileWindow: an order placed elsewhere is followed from
// the user channel and fills once there; the private WebSocket is cut;
// while it is down the order fills twice and is cancelled (it is in no
// snapshot then). After the reconnect the host receives each missed
// report once, in order, Reconciled: the two fills with Coinbase's trade
// id, price, size, fee and cumulative quantities (the fill streamed
// before, which the user channel reported without a trade id, is matched
// by quantity and not delivered again), then the cancel.
func TestCoinbaseReconcileWindow(t *testing.T) {
	v := newCBSim(t)
	h := startCBRecon(t, v, nil)
	o := h.open("w1", "0.05")
	v.fill(o, 1, "0.01", "1000")
	assertCBFill(t, h.next(), false, schema.StatusPartiallyFilled, "0.01", "1000", "0.01", "10", "0.05")

	v.window(func() {
		v.fill(o, 1, "0.01", "1000")
		v.fill(o, 1, "0.01", "1010")
		v.end(o, "CANCELLED")
	})
	assertCBFill(t, h.next(), true, schema.StatusPartiallyFilled, "0.01", "1000", "0.02", "20", "0.05")
	assertCBFill(t, h.next(), true, schema.StatusPartiallyFilled, "0.01", "1010", "0.03", "30.1", "0.05")
	r := h.next()
	assert.Equal(t, []any{true, schema.ExecCanceled, schema.StatusCanceled, "w1"}, []any{r.Reconciled, r.ExecType, r.Status, r.ClientOrderID.String()})
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery, "forgotten once ended")
	st := h.s.Stats().Order
	assert.Equal(t, []any{uint64(3), uint64(1), uint64(0), uint64(0)}, []any{st.Reconciled, st.Reconciliations, st.ReconcileErrors, st.ReconcileGaps})
	h.nothingElse()
	h.noBadJWT()
}

// TestCoinbaseReconcileEnded: orders that ended in the window — one
// expired without a fill, one filled — get one end report (the expiry),
// the fill, Reconciled, and are forgotten.
func TestCoinbaseReconcileEnded(t *testing.T) {
	v := newCBSim(t)
	h := startCBRecon(t, v, nil)
	e1 := h.open("e1", "0.03")
	e2 := h.open("e2", "0.03")
	v.window(func() {
		v.end(e1, "EXPIRED")
		v.fill(e2, 1, "", "1000")
	})
	got := map[string]*schema.ExecReport{}
	for range 2 {
		r := h.next()
		got[r.ClientOrderID.String()] = r
	}
	require.Contains(t, got, "e1")
	require.Contains(t, got, "e2")
	assert.Equal(t, []any{true, schema.ExecExpired, schema.StatusExpired}, []any{got["e1"].Reconciled, got["e1"].ExecType, got["e1"].Status})
	assertCBFill(t, got["e2"], true, schema.StatusFilled, "0.03", "1000", "0.03", "30", "0.03")
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery)
	h.nothingElse()
	assert.Equal(t, uint64(2), h.s.Stats().Order.Reconciled)
}

// TestCoinbaseReconcileDedup: the user channel reports no fill of its own,
// only an order's cumulative quantities: its fills are matched with the
// fills query's by quantity, both ways. "stream after": the new
// subscription's snapshot, which restates an open order's growth since
// the last report, comes after reconciliation delivered that growth's
// fill: dropped, counted. "stream after, more": the snapshot's growth
// covers the delivered fill and a later one: the report is cut to the
// later fill, its price the growth of filled_value over it, its fee the
// growth of total_fees less the delivered fill's.
func TestCoinbaseReconcileDedup(t *testing.T) {
	for _, more := range []bool{false, true} {
		t.Run(map[bool]string{false: "stream after", true: "stream after, more"}[more], func(t *testing.T) {
			v := newCBSim(t)
			h := startCBRecon(t, v, nil)
			o := h.open("a1", "0.05")
			v.mu.Lock()
			v.holdSnap = true
			v.mu.Unlock()
			v.window(func() { v.fill(o, 1, "0.01", "1000") })
			assertCBFill(t, h.next(), true, schema.StatusPartiallyFilled, "0.01", "1000", "0.01", "10", "0.05")
			if more {
				v.fill(o, 1, "0.02", "1100") // not streamed: the snapshot is held
			}
			v.sendSnapshot()
			if more {
				assertCBFill(t, h.next(), false, schema.StatusPartiallyFilled, "0.02", "1100", "0.03", "32", "0.05")
			} else {
				require.Eventually(t, func() bool { return h.s.Stats().Order.Duplicates == 1 }, generous, pollEvery)
			}
			h.nothingElse()
			assert.Equal(t, uint64(1), h.s.Stats().Order.Reconciled)
		})
	}
}

// TestCoinbaseReconcilePages: 150 fills in the window (the order then
// cancelled: no snapshot restates it) take two pages of List Fills (limit
// 100, cursor); each reaches the host once, in trade order, with the
// cumulative quantities after it.
func TestCoinbaseReconcilePages(t *testing.T) {
	v := newCBSim(t)
	h := startCBRecon(t, v, nil)
	o := h.open("p1", "1")
	v.window(func() {
		v.fill(o, 150, "0.001", "1000")
		v.end(o, "CANCELLED") // in no snapshot: its fills are reconciled
	})
	seen := map[string]bool{}
	for i := 1; i <= 150; i++ {
		r := h.next()
		cum, _ := d("0.001").Mul(d(strconv.Itoa(i)))
		quote, _ := cum.Mul(d("1000"))
		assertCBFill(t, r, true, schema.StatusPartiallyFilled, "0.001", "1000", cum.String(), quote.String(), "1")
		assert.False(t, seen[r.TradeID.String()], "trade %s once", r.TradeID.String())
		seen[r.TradeID.String()] = true
	}
	assert.Equal(t, schema.ExecCanceled, h.next().ExecType)
	assert.Equal(t, 2, v.queried(cbFillsAt), "two pages")
	h.nothingElse()
}

// TestCoinbaseReconcileStuckCursor: a venue whose List Fills and List
// Orders name the same cursor, and a next page, for ever: the reading
// ends (a page that brings nothing new, a cursor seen before) instead of
// asking for ever, and the fills found reach the host once.
func TestCoinbaseReconcileStuckCursor(t *testing.T) {
	v := newCBSim(t)
	v.stuck = true
	h := startCBRecon(t, v, nil)
	require.Eventually(t, func() bool { return v.queried(cbOrdersAt) == 2 }, generous, pollEvery, "the open orders: a cursor read before ends the list")
	o := h.open("s1", "0.05")
	v.window(func() {
		v.fill(o, 2, "0.01", "1000")
		v.end(o, "CANCELLED")
	})
	assertCBFill(t, h.next(), true, schema.StatusPartiallyFilled, "0.01", "1000", "0.01", "10", "0.05")
	assertCBFill(t, h.next(), true, schema.StatusPartiallyFilled, "0.01", "1000", "0.02", "20", "0.05")
	assert.Equal(t, schema.ExecCanceled, h.next().ExecType)
	h.nothingElse()
	assert.Equal(t, 2, v.queried(cbFillsAt), "fills pages read: the second brings nothing new")
	assert.Equal(t, 2, v.queried(cbOrdersAt))
	assert.Zero(t, h.s.Stats().Order.ReconcileGaps)
}

// TestCoinbaseReconcileRefusals: queries Coinbase refuses for its rate
// limit (HTTP 429) are tried again after a backoff, the budget emptied,
// and counted; an answer under another status than 200 is a refusal
// even when its body reads as a success (a gateway's 503 with an empty
// list of fills); the fills still arrive once, without a gap marker.
func TestCoinbaseReconcileRefusals(t *testing.T) {
	for _, c := range []struct {
		name, path, answer string
	}{
		{"rate limit", cbOrderAt, `429 {"error":"rate_limit_exceeded","message":"Too many requests"}`},
		{"503 reading as no fills", cbFillsAt, `503 {"fills":[],"cursor":""}`},
		{"502 page", cbFillsAt, `502 <html>bad gateway</html>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newCBSim(t)
			h := startCBRecon(t, v, nil)
			o := h.open("r1", "0.05")
			v.failNextOn(c.path, 2, c.answer)
			v.window(func() {
				v.fill(o, 1, "0.01", "1000")
				v.end(o, "CANCELLED")
			})
			assertCBFill(t, h.next(), true, schema.StatusPartiallyFilled, "0.01", "1000", "0.01", "10", "0.05")
			assert.Equal(t, schema.ExecCanceled, h.next().ExecType)
			st := h.s.Stats().Order
			assert.Equal(t, []any{uint64(2), uint64(0)}, []any{st.ReconcileErrors, st.ReconcileGaps})
			h.nothingElse()
		})
	}
}

// TestCoinbaseReconcileGivesUp: when every try fails (five 429s), or a
// refusal cannot pass (401), or Coinbase has no such order (404), the
// host gets a gap marker for the order's execution reports (the reason
// naming the status); the order stays followed and the next reconnect
// reconciles it.
func TestCoinbaseReconcileGivesUp(t *testing.T) {
	for _, c := range []struct {
		name, answer string
		tries        int
		reason       string
	}{
		{"rate limit", `429 {"error":"rate_limit_exceeded","message":"Too many requests"}`, 5, "status 429"},
		{"unauthorized", `401 {"error":"UNAUTHENTICATED","code":16,"message":"Unauthorized"}`, 1, "status 401 code 16"},
		{"not found", `404 {"error":"NOT_FOUND","code":5,"message":"order with this orderID was not found"}`, 1, "no such order"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newCBSim(t)
			h := startCBRecon(t, v, nil)
			o := h.open("g1", "0.05")
			v.failNextOn(cbOrderAt, c.tries, c.answer)
			v.window(func() {
				v.fill(o, 1, "0.01", "1000")
				v.end(o, "CANCELLED")
			})
			g := h.gap()
			assert.Equal(t, []any{schema.ControlGap, schema.GapVenue, schema.EventExecReport, "BTC-USD", o.id},
				[]any{g.Control.Kind, g.Control.GapSource, g.Control.GapType, g.Symbol, g.Exec.VenueOrderID.String()})
			assert.Contains(t, g.Control.Reason, c.reason)
			assert.Equal(t, c.tries, v.queried(cbOrderAt))
			st := h.s.Stats().Order
			assert.Equal(t, []any{uint64(1), 1}, []any{st.ReconcileGaps, st.Tracked}, "still followed")

			v.window(func() {})
			assertCBFill(t, h.next(), true, schema.StatusPartiallyFilled, "0.01", "1000", "0.01", "10", "0.05")
			assert.Equal(t, schema.ExecCanceled, h.next().ExecType)
			h.nothingElse()
		})
	}
}

// TestCoinbaseReconcileOrdersFromBefore: an order open and partly filled
// before the session started is followed (List Orders at the first
// subscription, and the snapshot); its earlier fill is not the session's
// to deliver, the fill and the cancel of a later window are.
func TestCoinbaseReconcileOrdersFromBefore(t *testing.T) {
	v := newCBSim(t)
	o := v.open("b1", "0.03") // nobody subscribed yet
	v.fill(o, 1, "0.01", "1000")
	h := startCBRecon(t, v, nil)
	r := h.next()
	assert.NotEqual(t, schema.ExecTrade, r.ExecType, "the snapshot: the order as it stands, no fill")
	assert.Equal(t, []any{schema.StatusPartiallyFilled, "b1", false}, []any{r.Status, r.ClientOrderID.String(), r.Reconciled})
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 1 }, generous, pollEvery)
	v.window(func() {
		v.fill(o, 1, "0.01", "1000")
		v.end(o, "CANCELLED")
	})
	assertCBFill(t, h.next(), true, schema.StatusPartiallyFilled, "0.01", "1000", "0.02", "20", "0.03")
	assert.Equal(t, schema.ExecCanceled, h.next().ExecType)
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery)
	h.nothingElse()
}
