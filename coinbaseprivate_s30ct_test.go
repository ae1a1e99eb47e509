package meltica_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// Coinbase Advanced Trade loopback, from Coinbase's docs: "WebSocket
// Channels → User" (a snapshot of the open orders on subscribe, then
// updates carrying each order's cumulative_quantity, leaves_quantity,
// filled_value, total_fees and status), "Heartbeats", the subscriptions
// message, and "sequence_num" numbering every message of the connection
// ("WebSocket Overview → Sequence Numbers": a gap means a lost message);
// REST "List Public Products", "Get Order", "List Fills", "List Orders".
type s30ctCoinbase struct {
	*s30ctPeer
	mu    sync.Mutex
	seq   map[*s30ctConn]int
	order map[string]string // order_id → Get Order's "order"
	fills map[string]string // order_id → List Fills' "fills" items
	asked []string
}

const s30ctCoinbaseProducts = `{"products":[{"product_id":"BTC-USD","price":"68900.5","price_percentage_change_24h":"1.2","volume_24h":"100","volume_percentage_change_24h":"3","base_increment":"0.00000001","quote_increment":"0.01","quote_min_size":"1","quote_max_size":"150000000","base_min_size":"0.00000001","base_max_size":"3400","base_name":"Bitcoin","quote_name":"US Dollar","watched":false,"is_disabled":false,"new":false,"status":"online","cancel_only":false,"limit_only":false,"post_only":false,"trading_disabled":false,"auction_mode":false,"product_type":"SPOT","quote_currency_id":"USD","base_currency_id":"BTC","mid_market_price":"","alias":"","alias_to":[],"base_display_symbol":"BTC","quote_display_symbol":"USD","view_only":false,"price_increment":"0.01"}],"num_products":1}`

// next returns the connection's next sequence_num (from 0), skipping
// skip numbers first.
func (cb *s30ctCoinbase) next(c *s30ctConn, skip int) int {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	n, ok := cb.seq[c]
	if !ok {
		n = -1
	}
	n += 1 + skip
	cb.seq[c] = n
	return n
}

func s30ctCoinbaseUser(seq int, typ, orders string) string {
	return fmt.Sprintf(`{"channel":"user","client_id":"","timestamp":"2026-04-07T14:30:06.000000Z","sequence_num":%d,"events":[{"type":%q,"orders":[%s]}]}`, seq, typ, orders)
}

func s30ctCoinbaseOrder(id, status, cum, leaves, value, fees string) string {
	return fmt.Sprintf(`{"order_id":%q,"client_order_id":"cb-host-1","cumulative_quantity":%q,"leaves_quantity":%q,"avg_price":"1000.1","filled_value":%q,"total_fees":%q,"status":%q,"product_id":"BTC-USD","creation_time":"2026-04-07T14:29:55.123456Z","order_side":"BUY","order_type":"Limit","cancel_reason":"","reject_reason":"","total_value_after_fees":"0","contract_expiry_type":"UNKNOWN_CONTRACT_EXPIRY_TYPE","product_type":"SPOT","risk_managed_by":"UNKNOWN_RISK_MANAGEMENT_TYPE","time_in_force":"GOOD_UNTIL_CANCELLED","trigger_status":"INVALID_ORDER_TYPE","post_only":"false"}`,
		id, cum, leaves, value, fees, status)
}

func newS30ctCoinbase(t *testing.T) *s30ctCoinbase {
	cb := &s30ctCoinbase{s30ctPeer: newS30ctPeer(t), seq: map[*s30ctConn]int{}, order: map[string]string{}, fills: map[string]string{}}
	cb.rest("/api/v3/brokerage/market/products", func(*http.Request) string { return s30ctCoinbaseProducts })
	cb.rest("/api/v3/brokerage/orders/historical/batch", func(*http.Request) string {
		return `{"orders":[],"sequence":"0","has_next":false,"cursor":""}`
	})
	cb.rest("/api/v3/brokerage/orders/historical/fills", func(r *http.Request) string {
		cb.mu.Lock()
		defer cb.mu.Unlock()
		cb.asked = append(cb.asked, r.URL.String())
		if r.URL.Query().Get("cursor") != "" {
			return `{"fills":[],"cursor":""}`
		}
		return `{"fills":[` + cb.fills[r.URL.Query().Get("order_ids")] + `],"cursor":""}`
	})
	cb.rest("/api/v3/brokerage/orders/historical/", func(r *http.Request) string {
		cb.mu.Lock()
		defer cb.mu.Unlock()
		cb.asked = append(cb.asked, r.URL.String())
		id := strings.TrimPrefix(r.URL.Path, "/api/v3/brokerage/orders/historical/")
		return `{"order":` + cb.order[id] + `}`
	})
	subs := func(c *s30ctConn, text string, private bool) []string {
		m := s28ctJSON(t, []byte(text))
		if m["type"] != "subscribe" {
			return nil
		}
		ch, _ := m["channel"].(string)
		if private {
			if jwt, _ := m["jwt"].(string); jwt == "" {
				return []string{`{"type":"error","message":"authentication failure"}`}
			}
		}
		out := []string{fmt.Sprintf(`{"channel":"subscriptions","client_id":"","timestamp":"2026-04-07T14:30:00.000000Z","sequence_num":%d,"events":[{"subscriptions":{%q:["BTC-USD"]}}]}`, cb.next(c, 0), ch)}
		if ch == "user" {
			out = append(out, s30ctCoinbaseUser(cb.next(c, 0), "snapshot", s30ctCoinbaseOrder("cb-order-1", "OPEN", "0", "0.5", "0", "0")))
		}
		return out
	}
	cb.handle("/ws", func(c *s30ctConn, text string) []string { return subs(c, text, false) })
	cb.handle("/wsuser", func(c *s30ctConn, text string) []string { return subs(c, text, true) })
	return cb
}

// A message lost on Coinbase's user connection (a jump in sequence_num)
// starts a reconciliation pass (session doc: "or when the subscribed
// private connection loses a message (a jump in Coinbase's
// sequence_num, which numbers every message of the connection: an
// order's end may be among them)"). An open order of the snapshot grows
// by 0.2 on the stream (one fill report of that growth); the message
// that filled it is lost (the next message's sequence_num jumps by 2);
// the pass asks Get Order (FILLED, 0.5) and List Fills (trade t-1 0.2,
// t-2 0.3) and delivers t-2 alone, Reconciled — the 0.2 the stream's
// growth covered is not delivered twice — and the order's end Filled.
func TestS30ctCoinbaseSequenceGapReconciles(t *testing.T) {
	s30ctCoinbaseGap(t, func(cb *s30ctCoinbase, user *s30ctConn) int { return cb.next(user, 1) })
}

// README (normalize): "Coinbase Advanced Trade sequence_num counted from 0
// per connection (a 0 after the count started is a gap on the
// connection)": a message numbered 0 again on the same connection is a
// lost message, and starts the same pass.
func TestS30ctCoinbaseSequenceRestartReconciles(t *testing.T) {
	s30ctCoinbaseGap(t, func(cb *s30ctCoinbase, user *s30ctConn) int {
		cb.mu.Lock()
		defer cb.mu.Unlock()
		cb.seq[user] = 0
		return 0
	})
}

// s30ctCoinbaseGap runs the scenario with seq giving the number of the
// message that follows the lost one.
func s30ctCoinbaseGap(t *testing.T, seq func(*s30ctCoinbase, *s30ctConn) int) {
	cb := newS30ctCoinbase(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	execs := newS30ctExecs()
	s, err := session.Start(context.Background(), session.Config{
		Venue:        schema.VenueCoinbase,
		Endpoints:    session.Endpoints{Stream: cb.ws("/ws"), API: cb.ws("/wsuser"), REST: cb.srv.URL},
		Symbols:      []string{"BTC-USD"},
		Channels:     []string{"market_trades"},
		Key:          &session.CoinbaseKey{Name: "organizations/o/apiKeys/k", Key: key},
		NoClockSync:  true,
		Client:       s30ctFast(),
		OnExecReport: execs.on,
	})
	require.NoError(t, err)
	execs.returnTo(s.Pools())
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	s31ctConnected(t, s)
	require.Eventually(t, func() bool { return cb.opened("/wsuser") == 1 }, s27ctWait, 0x100000)
	user := cb.conn("/wsuser", 1)

	user.send(s30ctCoinbaseUser(cb.next(user, 0), "update", s30ctCoinbaseOrder("cb-order-1", "OPEN", "0.2", "0.3", "200.02", "0.2")))
	got := execs.wait(t, "", "cb-order-1", func(x []schema.Execution) bool { return len(s30ctFills(x)) >= 1 }, "the streamed growth")
	require.Equal(t, "0.2", s30ctFills(got)[0].LastFillQty.String())

	cb.mu.Lock()
	cb.order["cb-order-1"] = `{"order_id":"cb-order-1","product_id":"BTC-USD","user_id":"u1","order_configuration":{"limit_limit_gtc":{"base_size":"0.5","limit_price":"1000.1","post_only":false}},"side":"BUY","client_order_id":"cb-host-1","status":"FILLED","time_in_force":"GOOD_UNTIL_CANCELLED","created_time":"2026-04-07T14:29:55.123456Z","completion_percentage":"100","filled_size":"0.5","average_filled_price":"1000.1","fee":"","number_of_fills":"2","filled_value":"500.05","pending_cancel":false,"size_in_quote":false,"total_fees":"0.5","size_inclusive_of_fees":false,"total_value_after_fees":"500.55","trigger_status":"INVALID_ORDER_TYPE","order_type":"LIMIT","reject_reason":"","settled":true,"product_type":"SPOT","reject_message":"","cancel_message":"","order_placement_source":"RETAIL_ADVANCED","outstanding_hold_amount":"0","is_liquidation":false,"last_fill_time":"2026-04-07T14:30:09Z","leaves_quantity":"0"}`
	cb.fills["cb-order-1"] = `{"entry_id":"e2","trade_id":"t-2","order_id":"cb-order-1","trade_time":"2026-04-07T14:30:09Z","trade_type":"FILL","price":"1000.1","size":"0.3","commission":"0.3","product_id":"BTC-USD","sequence_timestamp":"2026-04-07T14:30:09Z","liquidity_indicator":"MAKER","size_in_quote":false,"user_id":"u1","side":"BUY","retail_portfolio_id":"p1"},` +
		`{"entry_id":"e1","trade_id":"t-1","order_id":"cb-order-1","trade_time":"2026-04-07T14:30:07Z","trade_type":"FILL","price":"1000.1","size":"0.2","commission":"0.2","product_id":"BTC-USD","sequence_timestamp":"2026-04-07T14:30:07Z","liquidity_indicator":"MAKER","size_in_quote":false,"user_id":"u1","side":"BUY","retail_portfolio_id":"p1"}`
	cb.mu.Unlock()
	// The FILLED update is lost: the next message (a heartbeat) jumps.
	user.send(fmt.Sprintf(`{"channel":"heartbeats","client_id":"","timestamp":"2026-04-07T14:30:10.000000Z","sequence_num":%d,"events":[{"current_time":"2026-04-07 14:30:10.0 +0000 UTC","heartbeat_counter":"7"}]}`, seq(cb, user)))
	got = execs.wait(t, "", "cb-order-1", func(x []schema.Execution) bool {
		return len(x) > 0 && x[len(x)-1].Status == schema.StatusFilled
	}, "the lost fill, reconciled after the gap")
	fills := s30ctFills(got)
	require.Len(t, fills, 2, "the growth streamed, then t-2 alone: %+v", got)
	assert.True(t, fills[1].Reconciled)
	assert.Equal(t, "t-2", fills[1].TradeID.String())
	assert.Equal(t, "0.3", fills[1].LastFillQty.String())
	assert.Equal(t, "0.5", fills[1].CumFillQty.String())
	assert.Equal(t, 1, cb.opened("/wsuser"), "no reconnect: the gap alone started the pass")
}
