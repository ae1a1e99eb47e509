package session_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// krakenVenue is Kraken on loopback keeping orders: the fake private
// WebSocket (token, executions subscription, add_order) pushes every
// change of an order as an executions update while a connection is
// subscribed — with snapshot set, the open orders too on each
// subscription (snap_orders) —, and Kraken Spot REST's QueryOrders,
// QueryTrades, OpenOrders and ClosedOrders answer from the same orders,
// as Kraken documents them: POST form bodies, API-Sign checked, a nonce
// not above the key's last one (the token's requests included) refused
// with "EAPI:Invalid nonce", errors with HTTP 200.
type krakenVenue struct {
	*simVenue
	snapshot bool
	noTrades bool // QueryOrders lists no trades ("if … data available")
	noClOrd  bool // the order lists ignore cl_ord_id and leave it out of their orders
	trade    int  // the last trade_id (per pair, increasing)
	nonces   int  // queries refused for their nonce
}

var krakenPaths = []string{normalize.KrakenPathQueryOrders, normalize.KrakenPathQueryTrades, normalize.KrakenPathOpenOrders,
	normalize.KrakenPathClosedOrders, normalize.KrakenPathTradesHistory}

func newKrakenVenue(t *testing.T) *krakenVenue {
	sv := &simVenue{fakePrivate: newFakePrivate(t, schema.VenueKraken, nil), t: t, venue: schema.VenueKraken, orders: map[string]*simOrder{},
		ms: 1_700_000_000_000, subs: map[*websocket.Conn]bool{}, queries: map[string]int{}}
	v := &krakenVenue{simVenue: sv, trade: 62887570}
	sv.fakePrivate.mu.Lock()
	sv.onSubscribe = v.subscribed
	sv.fakePrivate.mu.Unlock()
	sv.setScript(v.script)
	for _, p := range krakenPaths {
		sv.mux.HandleFunc(p, v.serveREST)
	}
	return v
}

func (v *krakenVenue) subscribed(c *websocket.Conn, channels []string) {
	if len(channels) != 1 || channels[0] != "executions" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.subs[c] = true
	if !v.snapshot {
		return
	}
	var open []string
	for _, o := range v.newest() {
		if o.status == "open" {
			open = append(open, v.execData(o, "new", nil))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"channel":"executions","type":"snapshot","data":[`+strings.Join(open, ",")+`],"sequence":1}`))
}

// script: add_order makes an order (its "new" pushed), answered with its
// txid.
func (v *krakenVenue) script(o orderSeen) ([]string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	so := v.create(o)
	v.pushExec(so, "new", nil)
	return []string{`{"method":"add_order","req_id":` + o.id + `,"result":{"order_id":"` + so.id + `","cl_ord_id":"` + so.cl +
		`"},"success":true,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`}, false
}

func (v *krakenVenue) create(o orderSeen) *simOrder {
	v.seq++
	qty, _ := o.arg["order_qty"].(float64)
	so := &simOrder{id: fmt.Sprintf("O%05d-BW3P3-BUCMWZ", v.seq), cl: str(o.arg["cl_ord_id"]),
		qty: d(strconv.FormatFloat(qty, 'f', -1, 64)), status: "open"}
	v.ms++
	so.created, so.updated = v.ms, v.ms
	v.orders[so.id] = so
	return so
}

// fill fills n times qty of the order (the rest when qty is ""), pushing
// each trade, and the "filled" report that follows the last (Kraken
// "Executions").
func (v *krakenVenue) fill(cl string, n int, qty string) {
	o := v.order(cl)
	v.mu.Lock()
	defer v.mu.Unlock()
	for range n {
		q, _ := o.qty.Sub(o.cum)
		if qty != "" {
			q = d(qty)
		}
		v.ms++
		v.trade++
		o.cum, _ = o.cum.Add(q)
		f := simFill{id: strconv.Itoa(v.trade), bill: fmt.Sprintf("T%05d-HT5LX-J3BZ4A", v.trade%100000), qty: q, ms: v.ms}
		o.fills = append(o.fills, f)
		o.updated = v.ms
		if o.cum.Cmp(o.qty) >= 0 {
			o.status = "closed"
		}
		v.pushExec(o, "trade", &o.fills[len(o.fills)-1])
		if o.status == "closed" {
			v.pushExec(o, "filled", nil)
		}
	}
}

// end cancels or expires the order at the venue.
func (v *krakenVenue) end(cl, status string) {
	o := v.order(cl)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ms++
	o.status, o.updated = status, v.ms
	v.pushExec(o, status, nil)
}

func (v *krakenVenue) repush(cl string) {
	o := v.order(cl)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pushExec(o, "trade", &o.fills[len(o.fills)-1])
}

func krakenTS(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000000Z") }

func krakenSecs(ms int64) string {
	return strconv.FormatInt(ms/1000, 10) + "." + fmt.Sprintf("%03d", ms%1000)
}

// execData is an executions entry of the order: a status report, or the
// trade f.
func (v *krakenVenue) execData(o *simOrder, typ string, f *simFill) string {
	status := map[string]string{"open": "new", "closed": "filled", "canceled": "canceled", "expired": "expired"}[o.status]
	if o.status == "open" && o.cum.Sign() > 0 {
		status = "partially_filled"
	}
	cost, _ := o.cum.Mul(d("1000"))
	ts := o.updated
	if f != nil {
		ts = f.ms
	}
	s := `{"order_id":"` + o.id + `","cl_ord_id":"` + o.cl + `","symbol":"BTC/USDT","order_qty":` + o.qty.String() +
		`,"cum_qty":` + o.cum.String() + `,"cum_cost":` + cost.String() + `,"time_in_force":"GTC","exec_type":"` + typ +
		`","side":"buy","order_type":"limit","limit_price":1000,"order_status":"` + status + `","timestamp":"` + krakenTS(ts) + `"`
	if f != nil { // the fee: 0.1 % of qty × 1000, in USDT
		s += `,"exec_id":"` + f.bill + `","trade_id":` + f.id + `,"last_qty":` + f.qty.String() + `,"last_price":1000,"liquidity_ind":"m",` +
			`"avg_price":1000,"fees":[{"asset":"USDT","qty":` + f.qty.String() + `}]`
	}
	return s + "}"
}

func (v *krakenVenue) pushExec(o *simOrder, typ string, f *simFill) {
	v.push(`{"channel":"executions","type":"update","data":[` + v.execData(o, typ, f) + `],"sequence":` + strconv.FormatInt(v.ms, 10) + `}`)
}

// orderInfo is the order as Kraken's order queries answer it.
func (v *krakenVenue) orderInfo(o *simOrder) string {
	cost, _ := o.cum.Mul(d("1000"))
	avg, closed, trades := "0", "", make([]string, 0, len(o.fills))
	if o.cum.Sign() > 0 {
		avg = "1000.0"
	}
	if o.status != "open" {
		closed = `"closetm":` + krakenSecs(o.updated) + `,`
	}
	for _, f := range o.fills[o.aged:] {
		trades = append(trades, `"`+f.bill+`"`)
	}
	list := `,"trades":[` + strings.Join(trades, ",") + `]`
	if v.noTrades {
		list = ""
	}
	cl := `"cl_ord_id":"` + o.cl + `",`
	if v.noClOrd {
		cl = ""
	}
	return `{"refid":null,"userref":0,` + cl + `"status":"` + o.status + `","reason":null,"opentm":` + krakenSecs(o.created) + `,` +
		closed + `"starttm":0,"expiretm":0,"descr":{"pair":"XBTUSDT","type":"buy","ordertype":"limit","price":"1000.0","price2":"0",` +
		`"leverage":"none","order":"buy","close":""},"vol":"` + o.qty.String() + `","vol_exec":"` + o.cum.String() + `","cost":"` + cost.String() +
		`","fee":"0","price":"` + avg + `","stopprice":"0","limitprice":"0","misc":"","oflags":"fciq"` + list + `}`
}

func (v *krakenVenue) tradeInfo(o *simOrder, f *simFill) string {
	cost, _ := f.qty.Mul(d("1000"))
	return `{"ordertxid":"` + o.id + `","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XBTUSDT","time":` + krakenSecs(f.ms) + `,"type":"buy",` +
		`"ordertype":"limit","price":"1000.0","cost":"` + cost.String() + `","fee":"` + f.qty.String() + `","vol":"` + f.qty.String() +
		`","margin":"0","misc":"","trade_id":` + f.id + `,"maker":true}`
}

// serveREST answers Kraken's order queries: every request counted (and
// held when asked), its signature and nonce checked (the nonce against
// the token requests' too: one key), then the failures asked for, then
// the venue's answer.
func (v *krakenVenue) serveREST(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	v.mu.Lock()
	v.queries[r.URL.Path]++
	hold := v.hold
	if hold != nil && v.holdOn != "" && v.holdOn != r.URL.Path {
		hold = nil
	}
	if hold != nil {
		v.held++
	}
	v.mu.Unlock()
	if hold != nil {
		<-hold
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	form, err := url.ParseQuery(string(body))
	require.NoError(v.t, err)
	want, err := normalize.KrakenSign(base64.StdEncoding.EncodeToString(v.secret), r.URL.Path, form.Get("nonce"), string(body))
	require.NoError(v.t, err)
	if r.Method != http.MethodPost || r.Header.Get("API-Key") != "kraken-key" || r.Header.Get("API-Sign") != want ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		v.badSign++
		_, _ = io.WriteString(w, `{"error":["EAPI:Invalid signature"]}`)
		return
	}
	nonce, _ := strconv.ParseInt(form.Get("nonce"), 10, 64)
	v.fakePrivate.mu.Lock()
	fresh := nonce > v.lastTS
	if fresh {
		v.lastTS = nonce
	}
	v.fakePrivate.mu.Unlock()
	if !fresh {
		v.nonces++
		_, _ = io.WriteString(w, `{"error":["EAPI:Invalid nonce"]}`)
		return
	}
	if len(v.fail) > 0 && (v.failOn == "" || v.failOn == r.URL.Path) {
		status, answer, _ := strings.Cut(v.fail[0], " ")
		v.fail = v.fail[1:]
		code, _ := strconv.Atoi(status)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, answer)
		return
	}
	var members []string
	switch r.URL.Path {
	case normalize.KrakenPathQueryTrades:
		ids := strings.Split(form.Get("txid"), ",")
		require.LessOrEqual(v.t, len(ids), 20, "QueryTrades: 20 txids at most")
		for _, id := range ids {
			for _, o := range v.orders {
				for i := range o.fills {
					if o.fills[i].bill == id && i >= o.aged {
						members = append(members, `"`+id+`":`+v.tradeInfo(o, &o.fills[i]))
					}
				}
			}
		}
		_, _ = io.WriteString(w, `{"error":[],"result":{`+strings.Join(members, ",")+`}}`)
		return
	case normalize.KrakenPathTradesHistory:
		v.serveHistory(w, form)
		return
	case normalize.KrakenPathQueryOrders:
		assert.Equal(v.t, []string{"true", "false"}, []string{form.Get("trades"), form.Get("consolidate_taker")})
		for _, id := range strings.Split(form.Get("txid"), ",") {
			o := v.orders[id]
			if o == nil {
				_, _ = io.WriteString(w, `{"error":["EOrder:Unknown order"]}`)
				return
			}
			members = append(members, `"`+id+`":`+v.orderInfo(o))
		}
		_, _ = io.WriteString(w, `{"error":[],"result":{`+strings.Join(members, ",")+`}}`)
		return
	}
	open := r.URL.Path == normalize.KrakenPathOpenOrders
	for _, o := range v.newest() {
		if (o.status == "open") == open && (form.Get("cl_ord_id") == "" || o.cl == form.Get("cl_ord_id") || v.noClOrd) {
			members = append(members, `"`+o.id+`":`+v.orderInfo(o))
		}
	}
	if open {
		_, _ = io.WriteString(w, `{"error":[],"result":{"open":{`+strings.Join(members, ",")+`}}}`)
		return
	}
	_, _ = io.WriteString(w, `{"error":[],"result":{"closed":{`+strings.Join(members, ",")+`},"count":`+strconv.Itoa(len(members))+`}}`)
}

// serveHistory is TradesHistory: the account's trades after start (Unix
// s, exclusive) up to end (inclusive), newest first, 50 from ofs, and
// their count.
func (v *krakenVenue) serveHistory(w io.Writer, form url.Values) {
	start, _ := strconv.ParseInt(form.Get("start"), 10, 64)
	end, _ := strconv.ParseInt(form.Get("end"), 10, 64)
	ofs, _ := strconv.Atoi(form.Get("ofs"))
	type trade struct {
		o *simOrder
		f *simFill
	}
	var all []trade
	for _, o := range v.orders {
		for i := range o.fills {
			if f := &o.fills[i]; f.ms > start*1000 && (end == 0 || f.ms <= end*1000) {
				all = append(all, trade{o, f})
			}
		}
	}
	slices.SortFunc(all, func(a, b trade) int { return int(b.f.ms - a.f.ms) })
	var members []string
	for i := ofs; i < len(all) && i < ofs+50; i++ {
		members = append(members, `"`+all[i].f.bill+`":`+v.tradeInfo(all[i].o, all[i].f))
	}
	_, _ = io.WriteString(w, `{"error":[],"result":{"trades":{`+strings.Join(members, ",")+`},"count":`+strconv.Itoa(len(all))+`}}`)
}

func startKrakenRecon(t *testing.T, v *krakenVenue, tweak func(*session.Config)) *venueRecon {
	t.Helper()
	c := placeCases()[2]
	require.Equal(t, schema.VenueKraken, c.venue)
	h := &venueRecon{t: t, v: v.simVenue, reports: make(chan *schema.ExecReport, 1024), gaps: make(chan *schema.CanonicalEvent, 16)}
	pools := strictPools()
	h.s = startOrders(t, c, v.fakePrivate, func(cfg *session.Config) {
		cfg.Pools = pools
		collectRecon(cfg, pools, h.reports, h.gaps)
		if tweak != nil {
			tweak(cfg)
		}
	})
	waitConnected(t, h.s)
	return h
}

// assertKrakenFill checks a reconciled fill of a buy of qty at 1000 with a
// fee of 0.1 % in USDT (Kraken's fees: in quote), maker.
func assertKrakenFill(t *testing.T, r *schema.ExecReport, status schema.OrderStatus, last, cum, qty string) {
	t.Helper()
	assert.True(t, r.Reconciled, "reconciled")
	assert.Equal(t, schema.ExecTrade, r.ExecType)
	assert.Equal(t, status, r.Status)
	assert.False(t, r.TradeID.IsZero(), "the venue's trade id")
	assert.Zero(t, r.LastFillPrice.Cmp(d("1000")), "price %s", r.LastFillPrice)
	assert.Zero(t, r.LastFillQty.Cmp(d(last)), "last qty %s", r.LastFillQty)
	assert.Zero(t, r.CumFillQty.Cmp(d(cum)), "cum qty %s", r.CumFillQty)
	quote, _ := d(cum).Mul(d("1000"))
	assert.Zero(t, r.CumQuoteQty.Cmp(quote), "cum quote %s", r.CumQuoteQty)
	rest, _ := d(qty).Sub(d(cum))
	assert.Zero(t, r.RemainingQty.Cmp(rest), "remaining %s", r.RemainingQty)
	assert.Zero(t, r.Fee.Cmp(r.LastFillQty), "fee %s", r.Fee)
	assert.Equal(t, "USDT", r.FeeAsset.String())
	assert.True(t, r.IsMaker)
	assert.Equal(t, "BTC-USDT", r.Symbol)
	assert.Equal(t, schema.SideBuy, r.Side)
	assert.Zero(t, r.Qty.Cmp(d(qty)))
	assert.NotZero(t, r.TransactTime)
}

func (v *krakenVenue) clean(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	assert.Zero(t, v.badSign, "every query signed as Kraken checks it")
	assert.Zero(t, v.nonces, "every nonce above the key's last, token requests included")
}

// TestKrakenReconcileWindow: an order is placed and partly filled on the
// stream; the private WebSocket is cut; while it is down the order fills
// twice and is canceled; after the reconnect the host receives each missed
// report exactly once, in trade order, Reconciled: the two fills with
// Kraken's trade_id, price, quantity, fee in quote, maker flag and
// cumulative quantities, then the cancel.
func TestKrakenReconcileWindow(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	h.place("w1", "0.05")
	v.fill("w1", 1, "0.01")
	r := h.nextFill()
	assert.Equal(t, []any{false, schema.ExecTrade}, []any{r.Reconciled, r.ExecType})

	v.window(func() {
		v.fill("w1", 2, "0.01")
		v.end("w1", "canceled")
	})
	first := h.next()
	assertKrakenFill(t, first, schema.StatusPartiallyFilled, "0.01", "0.02", "0.05")
	second := h.next()
	assertKrakenFill(t, second, schema.StatusPartiallyFilled, "0.01", "0.03", "0.05")
	o := v.order("w1")
	assert.Equal(t, []string{o.fills[1].id, o.fills[2].id}, []string{first.TradeID.String(), second.TradeID.String()}, "trade_id, in trade order")
	r = h.next()
	assert.Equal(t, []any{true, schema.ExecCanceled, schema.StatusCanceled, "w1", o.id},
		[]any{r.Reconciled, r.ExecType, r.Status, r.ClientOrderID.String(), r.VenueOrderID.String()})
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery, "forgotten once ended")
	st := h.s.Stats().Order
	assert.Equal(t, []any{uint64(3), uint64(1), uint64(0), uint64(0)}, []any{st.Reconciled, st.Reconciliations, st.ReconcileErrors, st.ReconcileGaps})
	assert.Equal(t, 1, v.queried(normalize.KrakenPathQueryOrders))
	assert.Equal(t, 1, v.queried(normalize.KrakenPathQueryTrades))
	h.nothingElse()
	v.clean(t)
}

// TestKrakenReconcileEnded: orders that ended in the window — one canceled
// without a fill, one expired after a partial fill, one filled — get their
// end once, Reconciled (the filled one its fill, whose status says
// Filled), and are forgotten.
func TestKrakenReconcileEnded(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	h.place("e1", "0.03")
	h.place("e2", "0.03")
	h.place("e3", "0.03")
	v.window(func() {
		v.end("e1", "canceled")
		v.fill("e2", 1, "0.01")
		v.end("e2", "expired")
		v.fill("e3", 1, "")
	})
	got := map[string][]*schema.ExecReport{}
	for range 4 {
		r := h.next()
		got[r.ClientOrderID.String()] = append(got[r.ClientOrderID.String()], r)
	}
	require.Len(t, got["e1"], 1)
	assert.Equal(t, []any{true, schema.ExecCanceled, schema.StatusCanceled}, []any{got["e1"][0].Reconciled, got["e1"][0].ExecType, got["e1"][0].Status})
	require.Len(t, got["e2"], 2)
	assertKrakenFill(t, got["e2"][0], schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
	assert.Equal(t, []any{true, schema.ExecExpired, schema.StatusExpired}, []any{got["e2"][1].Reconciled, got["e2"][1].ExecType, got["e2"][1].Status})
	require.Len(t, got["e3"], 1)
	assertKrakenFill(t, got["e3"][0], schema.StatusFilled, "0.03", "0.03", "0.03")
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery)
	h.nothingElse()
	v.clean(t)
}

// TestKrakenReconcileDedup: fills are deduplicated with the stream by
// Kraken's trade_id, both ways: a fill the stream delivers again after
// reconciliation delivered it is dropped (counted); a fill streamed after
// the new subscription, before the reconciliation's answer, is not
// delivered again by it.
func TestKrakenReconcileDedup(t *testing.T) {
	t.Run("stream after", func(t *testing.T) {
		v := newKrakenVenue(t)
		h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
		h.place("a1", "0.03")
		v.window(func() { v.fill("a1", 1, "0.01") })
		assertKrakenFill(t, h.nextFill(), schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
		v.repush("a1")
		require.Eventually(t, func() bool { return h.s.Stats().Order.Duplicates == 1 }, generous, pollEvery)
		h.nothingElse()
		v.clean(t)
	})
	t.Run("stream first", func(t *testing.T) {
		v := newKrakenVenue(t)
		h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
		h.place("b1", "0.03")
		v.holdOn = normalize.KrakenPathQueryOrders
		v.holdQueries(true)
		v.window(func() { v.fill("b1", 1, "0.01") })
		require.Eventually(t, func() bool { return v.heldQueries() == 1 }, generous, pollEvery, "the order query waits")
		v.fill("b1", 1, "0.01") // streamed
		r := h.nextFill()
		assert.False(t, r.Reconciled)
		assert.Zero(t, r.CumFillQty.Cmp(d("0.02")))
		later := r.TradeID
		v.holdQueries(false)
		r = h.nextFill()
		assertKrakenFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
		assert.NotEqual(t, later.String(), r.TradeID.String())
		h.nothingElse()
		assert.Equal(t, uint64(1), h.s.Stats().Order.Reconciled)
		v.clean(t)
	})
}

// TestKrakenReconcilePages: 45 fills in the window are read with
// QueryTrades 20 txids at a time (Kraken's maximum): three pages, each
// fill once, in trade order, with the cumulative quantities after it.
func TestKrakenReconcilePages(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	h.place("p1", "1")
	v.window(func() { v.fill("p1", 45, "0.001") })
	seen := map[string]bool{}
	last := uint64(0)
	for i := 1; i <= 45; i++ {
		r := h.next()
		cum, _ := d("0.001").Mul(d(strconv.Itoa(i)))
		assertKrakenFill(t, r, schema.StatusPartiallyFilled, "0.001", cum.String(), "1")
		assert.False(t, seen[r.TradeID.String()], "trade %s once", r.TradeID.String())
		seen[r.TradeID.String()] = true
		id, err := strconv.ParseUint(r.TradeID.String(), 10, 64)
		require.NoError(t, err)
		assert.Greater(t, id, last, "trade order")
		last = id
	}
	assert.Equal(t, 3, v.queried(normalize.KrakenPathQueryTrades), "20 + 20 + 5")
	h.nothingElse()
	v.clean(t)
}

// TestKrakenReconcileTradesHistory: when QueryOrders lists no trades for
// an order that executed ("if … data available"), its fills are read
// from TradesHistory between its opening and closing times, 50 a page
// (offset ofs), among the account's other trades: each once, in trade
// order, none of another order's. The pages read are bounded: an order
// whose fills lie beyond ten pages of the account's trades gets the gap
// marker of fills short, after ten pages, and stays followed.
func TestKrakenReconcileTradesHistory(t *testing.T) {
	t.Run("pages", func(t *testing.T) {
		v := newKrakenVenue(t)
		v.noTrades = true
		h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
		h.place("t1", "1")
		v.mu.Lock()
		v.create(orderSeen{arg: map[string]any{"cl_ord_id": "elsewhere", "order_qty": 1.0}}) // another client's
		v.mu.Unlock()
		v.window(func() {
			for range 30 {
				v.fill("t1", 1, "0.001")
				v.fill("elsewhere", 1, "0.001")
			}
			v.end("t1", "canceled")
		})
		for i := 1; i <= 30; i++ {
			cum, _ := d("0.001").Mul(d(strconv.Itoa(i)))
			r := h.next()
			assertKrakenFill(t, r, schema.StatusPartiallyFilled, "0.001", cum.String(), "1")
			assert.Equal(t, "t1", r.ClientOrderID.String())
		}
		r := h.next()
		assert.Equal(t, []any{true, schema.ExecCanceled}, []any{r.Reconciled, r.ExecType})
		assert.Equal(t, 2, v.queried(normalize.KrakenPathTradesHistory), "60 trades: 50 + 10")
		assert.Zero(t, v.queried(normalize.KrakenPathQueryTrades))
		h.nothingElse()
		v.clean(t)
	})
	t.Run("bounded", func(t *testing.T) {
		v := newKrakenVenue(t)
		v.noTrades = true
		h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
		h.place("t2", "1")
		v.mu.Lock()
		v.create(orderSeen{arg: map[string]any{"cl_ord_id": "busy", "order_qty": 1.0}})
		v.mu.Unlock()
		v.window(func() {
			v.fill("t2", 1, "0.001")
			for range 520 {
				v.fill("busy", 1, "0.001")
			}
		})
		select {
		case g := <-h.gaps:
			assert.Equal(t, v.order("t2").id, g.Exec.VenueOrderID.String())
			assert.Contains(t, g.Control.Reason, "fills make up 0 of the 0.001")
		case <-time.After(generous):
			require.FailNow(t, "no gap marker")
		}
		assert.Equal(t, 10, v.queried(normalize.KrakenPathTradesHistory), "ten pages at most")
		assert.Equal(t, 1, h.s.Stats().Order.Tracked, "open: still followed")
		h.nothingElse()
		v.clean(t)
	})
}

// TestKrakenReconcileRetriesThenGap: queries Kraken refuses for its rate
// limit ("EAPI:Rate limit exceeded", under HTTP 200) are retried with
// backoff and counted, and the fill still arrives once; when every try
// fails (five), the host is told with a gap marker carrying the refusal's
// code, the symbol and the order; the order stays followed and the next
// reconnect reconciles it.
func TestKrakenReconcileRetriesThenGap(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	h.place("g1", "0.03")
	refusal := `200 {"error":["EAPI:Rate limit exceeded"]}`
	v.failNext(2, refusal)
	v.window(func() { v.fill("g1", 1, "0.01") })
	assertKrakenFill(t, h.nextFill(), schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
	st := h.s.Stats().Order
	assert.Equal(t, []any{uint64(2), uint64(0)}, []any{st.ReconcileErrors, st.ReconcileGaps})

	v.failNext(1000, refusal)
	v.window(func() { v.fill("g1", 1, "0.01") })
	id := v.order("g1").id
	select {
	case g := <-h.gaps:
		assert.Equal(t, []any{schema.VenueKraken, schema.ControlGap, schema.GapVenue, schema.EventExecReport, normalize.KrakenCodeRateLimit, "BTC-USDT", id},
			[]any{g.Venue, g.Control.Kind, g.Control.GapSource, g.Control.GapType, g.Control.Code, g.Symbol, g.Exec.VenueOrderID.String()})
		assert.Contains(t, g.Control.Reason, "EAPI:Rate limit exceeded")
	case <-time.After(generous):
		require.FailNow(t, "no gap marker")
	}
	st = h.s.Stats().Order
	assert.Equal(t, []any{uint64(1), uint64(2 + 5), 1}, []any{st.ReconcileGaps, st.ReconcileErrors, st.Tracked})
	assert.Equal(t, 2+1+5, v.queried(normalize.KrakenPathQueryOrders), "five tries, then no more")

	v.failNext(0, "")
	v.window(func() {})
	assertKrakenFill(t, h.nextFill(), schema.StatusPartiallyFilled, "0.01", "0.02", "0.03")
	h.nothingElse()
	v.clean(t)
}

// TestKrakenReconcileNonce: nonces are strictly increasing across every
// private call of the key — the WebSocket token's requests and the
// queries —: Kraken's "EAPI:Invalid nonce" (here one, as when another call
// of the key came first) is tried again with a new, larger nonce and the
// fill arrives. When another client of the key has taken nonces far ahead
// (every call refused), the query is tried five times — no storm — and the
// host gets a gap marker with the nonce refusal's code.
func TestKrakenReconcileNonce(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	h.place("n1", "0.03")
	v.failNext(1, `200 {"error":["EAPI:Invalid nonce"]}`)
	v.window(func() { v.fill("n1", 1, "0.01") })
	assertKrakenFill(t, h.nextFill(), schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
	assert.Equal(t, []any{uint64(1), uint64(0)}, []any{h.s.Stats().Order.ReconcileErrors, h.s.Stats().Order.ReconcileGaps})
	v.clean(t)

	before := v.queried(normalize.KrakenPathQueryOrders)
	v.holdOn = normalize.KrakenPathQueryOrders
	v.holdQueries(true)
	v.window(func() { v.fill("n1", 1, "0.01") })
	require.Eventually(t, func() bool { return v.heldQueries() == 1 }, generous, pollEvery, "the order query waits, signed")
	v.fakePrivate.mu.Lock()
	v.lastTS = time.Now().Add(time.Hour).UnixMilli() // another client of the key
	v.fakePrivate.mu.Unlock()
	v.holdQueries(false)
	select {
	case g := <-h.gaps:
		assert.Equal(t, []any{normalize.KrakenCodeInvalidNonce, v.order("n1").id}, []any{g.Control.Code, g.Exec.VenueOrderID.String()})
	case <-time.After(generous):
		require.FailNow(t, "no gap marker")
	}
	assert.Equal(t, before+5, v.queried(normalize.KrakenPathQueryOrders), "five tries, then no more")
	v.mu.Lock()
	assert.Equal(t, 5, v.nonces)
	v.mu.Unlock()
}

// TestKrakenReconcileHTTPStatus: an answer under an HTTP status other than
// 200 is not Kraken's data even when its body reads as a success (a
// gateway's 503 with an empty result: "no trades"): it is a refusal of
// that status, tried again, and the fill arrives without a gap marker.
func TestKrakenReconcileHTTPStatus(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	h.place("h1", "0.03")
	v.failNextOn(normalize.KrakenPathQueryTrades, 1, `503 {"error":[],"result":{}}`)
	v.window(func() { v.fill("h1", 1, "0.01") })
	assertKrakenFill(t, h.nextFill(), schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
	st := h.s.Stats().Order
	assert.Equal(t, []any{uint64(1), uint64(0)}, []any{st.ReconcileErrors, st.ReconcileGaps})
	h.nothingElse()
	v.clean(t)
}

// placeLost places a limit buy of qty at 1000 that Kraken takes while
// every connection goes before its answer or any report: Place returns
// ErrDisconnected. It returns with the session's next connection held at
// its subscription.
func (v *krakenVenue) placeLost(h *venueRecon, cl, qty string) {
	h.t.Helper()
	v.placeLostWith(h, cl, qty, 1, v.create, v.script)
}

// TestKrakenReconcileUnknownPlace: Kraken takes an order and every
// connection goes before its answer or any report: Place returns
// ErrDisconnected. After the reconnect the session looks the order up by
// its cl_ord_id (OpenOrders, then ClosedOrders), delivers what it had in
// the window and follows it: open, its next fill streamed arrives once;
// canceled meanwhile (found among the closed orders), its fill then its
// cancel.
func TestKrakenReconcileUnknownPlace(t *testing.T) {
	for _, canceled := range []bool{false, true} {
		t.Run(fmt.Sprintf("canceled=%v", canceled), func(t *testing.T) {
			v := newKrakenVenue(t)
			h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
			v.placeLost(h, "u1", "0.03")
			v.fill("u1", 1, "0.01")
			if canceled {
				v.end("u1", "canceled")
			}
			v.release()
			r := h.nextFill()
			assertKrakenFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
			assert.Equal(t, []string{"u1", v.order("u1").id}, []string{r.ClientOrderID.String(), r.VenueOrderID.String()})
			if canceled {
				r = h.next()
				assert.Equal(t, []any{true, schema.ExecCanceled}, []any{r.Reconciled, r.ExecType})
				assert.Equal(t, 1, v.queried(normalize.KrakenPathClosedOrders))
				require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery)
			} else {
				require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 1 }, generous, pollEvery, "followed from now on")
				v.fill("u1", 1, "")
				r = h.nextFill()
				assert.Equal(t, []any{false, schema.ExecTrade, schema.StatusFilled}, []any{r.Reconciled, r.ExecType, r.Status})
				r = h.next() // Kraken's "filled" report after the trade
				assert.Equal(t, []any{false, schema.ExecOrderStatus, schema.StatusFilled}, []any{r.Reconciled, r.ExecType, r.Status})
				require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery)
			}
			assert.Equal(t, 1, v.queried(normalize.KrakenPathOpenOrders))
			h.nothingElse()
			v.clean(t)
		})
	}
}

// TestKrakenReconcileUnknownPlaceSnapshot: as TestKrakenReconcileUnknownPlace,
// with Kraken's snapshot of open orders (snap_orders) on the new
// subscription, which shows the order — partly filled in the window —
// before the lookup by cl_ord_id answers: the order is the session's own
// all the same, and the window's fill is delivered (followed from the
// snapshot as placed elsewhere, its fill was taken as from before the
// session saw it, and lost).
func TestKrakenReconcileUnknownPlaceSnapshot(t *testing.T) {
	v, h := snapshotBeforeLookup(t, "u2")
	v.holdQueries(false)
	r := h.next()
	assertKrakenFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
	h.nothingElse()
	v.clean(t)
}

// TestKrakenReconcileOrdersFromBefore: an order placed before the session
// started comes with the executions channel's snapshot of open orders
// (snap_orders) at the first subscription, its executed quantity with it:
// its earlier fill is not the session's to deliver, a fill in a later
// window is.
func TestKrakenReconcileOrdersFromBefore(t *testing.T) {
	v := newKrakenVenue(t)
	first := startKrakenRecon(t, v, nil)
	first.place("o1", "0.03")
	v.fill("o1", 1, "0.01")
	first.nextFill()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, first.s.Close(ctx))

	v.mu.Lock()
	v.snapshot = true
	v.mu.Unlock()
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	r := h.next()
	assert.Equal(t, []any{false, "o1", schema.StatusPartiallyFilled}, []any{r.Reconciled, r.ClientOrderID.String(), r.Status}, "the snapshot")
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 1 }, generous, pollEvery)
	v.window(func() { v.fill("o1", 1, "") })
	for {
		if r = h.next(); r.Reconciled {
			break // the snapshot of the new connection comes first
		}
	}
	assertKrakenFill(t, r, schema.StatusFilled, "0.02", "0.03", "0.03")
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery)
	assert.Zero(t, v.queried(normalize.KrakenPathOpenOrders), "the snapshot brings the open orders")
	v.clean(t)
}

// TestKrakenReconcileCloseDuringPass: Close while a pass's query waits for
// Kraken's answer ends the pass: Close returns, nothing is published after
// it, every pooled object comes back (strict pools) and no goroutine is
// left (goleak in TestMain).
func TestKrakenReconcileCloseDuringPass(t *testing.T) {
	v := newKrakenVenue(t)
	closeDuringPass(t, startKrakenRecon(t, v, nil), v)
}

// TestKrakenReconcileTradeIDOtherPair: Kraken's trade_id is an integer
// per pair ("Query Trades Info": trade_id), so TradesHistory — the
// account's trades of every pair — may list another pair's trade under
// the same trade_id as the order's. Listed first (newest first), it must
// not hide the order's own fill as "read already": the fill arrives once,
// and no gap marker.
func TestKrakenReconcileTradeIDOtherPair(t *testing.T) {
	v := newKrakenVenue(t)
	v.noTrades = true
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	h.place("c1", "0.03")
	v.mu.Lock()
	v.create(orderSeen{arg: map[string]any{"cl_ord_id": "otherpair", "order_qty": 1.0}})
	v.mu.Unlock()
	v.window(func() {
		v.fill("c1", 1, "0.01")
		v.fill("otherpair", 1, "0.01") // newer: listed first
		mine, other := v.order("c1"), v.order("otherpair")
		v.mu.Lock()
		other.fills[0].id = mine.fills[0].id // the same trade_id on another pair
		v.mu.Unlock()
	})
	r := h.next()
	assertKrakenFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
	assert.Equal(t, v.order("c1").id, r.VenueOrderID.String())
	select {
	case g := <-h.gaps:
		require.FailNow(t, "gap marker", "%s", g.Control.Reason)
	default:
	}
	h.nothingElse()
	assert.Zero(t, h.s.Stats().Order.ReconcileGaps)
	v.clean(t)
}

// TestKrakenReconcileUnknownPlaceEndsFirst: as
// TestKrakenReconcileUnknownPlaceSnapshot, but the order fills its rest
// and ends on the stream before the lookup by cl_ord_id answers: the
// stream's reports must not make the window's fill the floor of an order
// placed elsewhere and forget the order with it: the window's fill is
// still delivered, once, Reconciled.
func TestKrakenReconcileUnknownPlaceEndsFirst(t *testing.T) {
	v, h := snapshotBeforeLookup(t, "u3")
	v.fill("u3", 1, "") // streamed: the rest, then "filled"
	r := h.nextFill()
	assert.Equal(t, []any{false, schema.StatusFilled}, []any{r.Reconciled, r.Status})
	r = h.next()
	assert.Equal(t, []any{false, schema.StatusFilled}, []any{r.Reconciled, r.Status})
	v.holdQueries(false)
	r = h.next()
	assertKrakenFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
	assert.Equal(t, v.order("u3").fills[0].id, r.TradeID.String())
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery)
	h.nothingElse()
	v.clean(t)
}

// snapshotBeforeLookup starts a session with Kraken's snapshot of open
// orders on, loses the Place of an order cl of 0.03 that fills 0.01 in the
// window, and returns once the new subscription's snapshot showed it,
// with the lookup by cl_ord_id held.
func snapshotBeforeLookup(t *testing.T, cl string) (*krakenVenue, *venueRecon) {
	t.Helper()
	v := newKrakenVenue(t)
	v.snapshot = true
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	v.placeLost(h, cl, "0.03")
	v.fill(cl, 1, "0.01")
	v.holdOn = normalize.KrakenPathOpenOrders
	v.holdQueries(true)
	v.release()
	r := h.next()
	assert.Equal(t, []any{false, cl, schema.StatusPartiallyFilled}, []any{r.Reconciled, r.ClientOrderID.String(), r.Status}, "the snapshot")
	require.Eventually(t, func() bool { return v.heldQueries() == 1 }, generous, pollEvery, "the lookup by cl_ord_id waits")
	return v, h
}

// TestKrakenReconcileUnknownPlaceUnfiltered: the lookup by cl_ord_id of
// a Place of unknown outcome takes an order that leaves cl_ord_id out as
// the one asked for only when it is the answer's only order: a list that
// holds several without it (the filter not applied) names none of them,
// and another client's newer order must not be taken as the session's
// own (its fills delivered as the session's).
func TestKrakenReconcileUnknownPlaceUnfiltered(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	v.placeLost(h, "u4", "0.03")
	v.end("u4", "canceled")
	v.mu.Lock()
	v.noClOrd = true
	v.create(orderSeen{arg: map[string]any{"cl_ord_id": "someone", "order_qty": 1.0}}) // newer
	v.mu.Unlock()
	v.fill("someone", 1, "")
	v.release()
	require.Eventually(t, func() bool { return v.queried(normalize.KrakenPathClosedOrders) >= 1 }, generous, pollEvery)
	require.Eventually(t, func() bool { return h.s.Stats().Order.Reconciliations == 1 && h.s.Stats().Order.ReconcileErrors > 0 },
		generous, pollEvery, "the ambiguous answer is counted")
	select {
	case r := <-h.reports:
		require.FailNow(t, "another client's order delivered as the session's", "%s %s", r.VenueOrderID, r.ExecType)
	default:
	}
	assert.Zero(t, h.s.Stats().Order.Tracked, "neither order followed")
	v.clean(t)
}

// TestKrakenReconcileUnknownPlaceGivesUp: the lookup by cl_ord_id of a
// Place of unknown outcome that fails every try (five) tells the host, as
// an order given up does: a gap marker with the refusal's code, the
// symbol and, in Exec.ClientOrderID, the placement (its venue order id is
// not known); the placement is looked up again at the next reconnect,
// which delivers its fill.
func TestKrakenReconcileUnknownPlaceGivesUp(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	v.placeLost(h, "u5", "0.03")
	v.fill("u5", 1, "0.01")
	v.failNextOn(normalize.KrakenPathOpenOrders, 5, `200 {"error":["EService:Unavailable"]}`)
	v.release()
	select {
	case g := <-h.gaps:
		assert.Equal(t, []any{schema.ControlGap, schema.GapVenue, schema.EventExecReport, normalize.KrakenCodeUnavailable, "BTC-USDT", "u5"},
			[]any{g.Control.Kind, g.Control.GapSource, g.Control.GapType, g.Control.Code, g.Symbol, g.Exec.ClientOrderID.String()})
		assert.True(t, g.Exec.VenueOrderID.IsZero(), "the venue's order id is not known")
		assert.Contains(t, g.Control.Reason, "EService:Unavailable")
	case <-time.After(generous):
		require.FailNow(t, "no gap marker")
	}
	assert.Equal(t, uint64(1), h.s.Stats().Order.ReconcileGaps)
	v.window(func() {})
	r := h.nextFill()
	assertKrakenFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "0.03")
	assert.Equal(t, "u5", r.ClientOrderID.String())
	h.nothingElse()
	v.clean(t)
}

// TestKrakenReconcileClosedShort: Kraken closes an order with a remainder
// too small to trade ("Insignificant volume remaining": status closed,
// vol_exec below vol; ccxt/ccxt#8816). Its end is its last fill: the
// reconciled fill says Filled with nothing remaining — never
// PartiallyFilled for an order the session then forgets, which the host
// would take for a working one.
func TestKrakenReconcileClosedShort(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	h.place("s1", "1")
	v.window(func() {
		v.fill("s1", 1, "0.99999998")
		o := v.order("s1")
		v.mu.Lock()
		o.status = "closed"
		v.mu.Unlock()
	})
	r := h.next()
	assert.True(t, r.Reconciled)
	assert.Equal(t, schema.ExecTrade, r.ExecType)
	assert.Zero(t, r.LastFillQty.Cmp(d("0.99999998")), "%s", r.LastFillQty)
	assert.Equal(t, schema.StatusFilled, r.Status, "closed: its last report says it ended")
	assert.True(t, r.RemainingQty.IsZero(), "nothing works on: %s", r.RemainingQty)
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery, "forgotten once ended")
	h.nothingElse()
	v.clean(t)
}
