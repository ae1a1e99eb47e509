package meltica_test

// Outside contract tests, round 8 (s33ct): contract 3 (execution reports
// never dropped) through a reconnect whose reconciliation query fails
// once, written from session/doc.go ("Execution reports across
// reconnects") and Bybit's docs, on the loopback Bybit of
// bybitprivate_s30ct_test.go with a REST server of this test's.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s33ctFailOnce is a REST handler that, once armed, answers the first
// call with (status, body); every other call with ok.
type s33ctFailOnce struct {
	mu     sync.Mutex
	armed  bool
	calls  int // since armed
	status int
	body   string
	ok     func(r *http.Request) string
}

func (f *s33ctFailOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	first := false
	if f.armed {
		f.calls++
		first = f.calls == 1
	}
	f.mu.Unlock()
	if first {
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	_, _ = w.Write([]byte(f.ok(r)))
}

func (f *s33ctFailOnce) arm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = true
}

func (f *s33ctFailOnce) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// session/doc.go: when the venue accepts a subscription again after a
// loss, a pass asks every followed order's query and, when more has filled
// than was delivered, the fill query; "A query that fails — refused
// (… Bybit … 10016, … 5xx) … — is counted (OrderStats.ReconcileErrors),
// logged at Warn and tried again after the connection's backoff … five
// times in all", and "Each fill reaches the host once". A Bybit spot order
// filled 0.2 on the stream; the private connection is cut; meanwhile the
// order fills its last 0.3 and ends Filled. The first call of one of the
// queries fails (HTTP 500; retCode 10016 "Server error" under 200; HTTP
// 503): the missed fill still reaches the host exactly once, after the
// first one, Reconciled, the order ending Filled; the failure counted.
func TestS33ctBybitReconcileQueryFailsOnce(t *testing.T) {
	cases := []struct {
		name, path, body string
		status           int
	}{
		{"fills HTTP 500", "/v5/execution/list", `{"retCode":10016,"retMsg":"Internal server error."}`, http.StatusInternalServerError},
		{"fills retCode 10016", "/v5/execution/list", `{"retCode":10016,"retMsg":"Server error.","result":{},"retExtInfo":{},"time":1672364262474}`, http.StatusOK},
		{"order HTTP 503", "/v5/order/realtime", `Service Unavailable`, http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newS30ctBybit(t)
			list := func(items string) string {
				return `{"retCode":0,"retMsg":"OK","result":{"list":[` + items + `],"nextPageCursor":"","category":"spot"},"retExtInfo":{},"time":1672364262474}`
			}
			orders := func(r *http.Request) string {
				b.mu.Lock()
				defer b.mu.Unlock()
				q := r.URL.Query()
				for _, d := range b.restOrder {
					if (q.Get("orderLinkId") != "" && strings.Contains(d, `"orderLinkId":"`+q.Get("orderLinkId")+`"`)) ||
						(q.Get("orderId") != "" && strings.Contains(d, `"orderId":"`+q.Get("orderId")+`"`)) {
						return list(d)
					}
				}
				return list("")
			}
			handlers := map[string]func(r *http.Request) string{
				"/v5/market/instruments-info": func(*http.Request) string { return s30ctBybitInstruments },
				"/v5/order/realtime":          orders,
				"/v5/order/history":           orders,
				"/v5/execution/list": func(r *http.Request) string {
					b.mu.Lock()
					defer b.mu.Unlock()
					if r.URL.Query().Get("cursor") != "" {
						return list("")
					}
					return list(b.restExecs[r.URL.Query().Get("orderId")])
				},
				"/v5/": func(*http.Request) string {
					return `{"retCode":0,"retMsg":"OK","result":{"list":[]},"retExtInfo":{},"time":1}`
				},
			}
			mux := http.NewServeMux()
			var fail *s33ctFailOnce
			for path, h := range handlers {
				if path == tc.path {
					fail = &s33ctFailOnce{status: tc.status, body: tc.body, ok: h}
					mux.Handle(path, fail)
					continue
				}
				h := h
				mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(h(r))) })
			}
			// The first subscription's read of the open orders runs on a
			// goroutine of the session's, unawaited by Place: under load it
			// can be asked after the failure is armed and then cut short by
			// the cut (its context ended: no failure of the query). The
			// failure is armed once that read was answered.
			openRead := make(chan struct{})
			var openOnce sync.Once
			rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mux.ServeHTTP(w, r)
				if r.URL.Query().Has("openOnly") {
					openOnce.Do(func() { close(openRead) })
				}
			}))
			t.Cleanup(rest.Close)

			execs := newS30ctExecs()
			s, err := session.Start(context.Background(), session.Config{
				Venue: schema.VenueBybit,
				Endpoints: session.Endpoints{Stream: b.ws("/v5/public/spot"), API: b.ws("/v5/private"),
					Trade: b.ws("/v5/trade"), REST: rest.URL},
				Symbols:      []string{"BTC-USDT"},
				Channels:     []string{"publicTrade"},
				Key:          &session.BybitKey{APIKey: "bybit-key", Secret: []byte("bybit-secret")},
				NoClockSync:  true,
				Client:       s30ctFast(),
				OnExecReport: execs.on,
			})
			require.NoError(t, err)
			execs.returnTo(s.Pools())
			t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
			ctx := s31ctConnected(t, s)
			priv := func() *s30ctConn { return b.conn("/v5/private", b.opened("/v5/private")) }

			const link, oid = "s33bybF", "7401"
			fill1, fill2 := "e1a2b3c4-0000-4000-8000-000000000401", "e1a2b3c4-0000-4000-8000-000000000402"
			b.mu.Lock()
			b.create = func(c *s30ctConn, rid, l string) []string {
				p := priv()
				p.send(s30ctBybitOrderPush(l, oid, "New", "0", "0.5"))
				p.send(s30ctBybitExecPush(l, oid, fill1, "0.2", "0.3"))
				p.send(s30ctBybitOrderPush(l, oid, "PartiallyFilled", "0.2", "0.3"))
				return []string{s30ctBybitAnswer(rid, "order.create", 0, "OK", oid, l)}
			}
			b.mu.Unlock()
			req := s30ctBybitOrder(t, s, link)
			_, err = s.Place(ctx, req)
			s.Pools().Orders.Put(req)
			require.NoError(t, err)
			execs.wait(t, link, "", func(x []schema.Execution) bool { return len(x) >= 3 }, "New, fill, PartiallyFilled")

			// Meanwhile, unseen: the last 0.3 fills, the order ends Filled.
			b.mu.Lock()
			b.restOrder[oid] = s30ctBybitRestOrder(link, oid, "Filled", "0.5", "0")
			b.restExecs[oid] = s30ctBybitRestExec(link, oid, fill2, "0.3", "0", "1672364263000") + "," +
				s30ctBybitRestExec(link, oid, fill1, "0.2", "0.3", "1672364262500")
			b.mu.Unlock()
			select {
			case <-openRead:
			case <-ctx.Done():
				require.FailNow(t, "the open orders were never read")
			}
			fail.arm()
			priv().cut()

			got := execs.wait(t, link, "", func(x []schema.Execution) bool {
				f := s30ctFills(x)
				return len(f) >= 2 && f[len(f)-1].Status == schema.StatusFilled
			}, "the missed fill, reconciled after the failed query")
			require.GreaterOrEqual(t, fail.count(), 2, "the failed query tried again")
			fills := s30ctFills(got)
			require.Len(t, fills, 2, "each fill once: %+v", got)
			assert.Equal(t, fill1, fills[0].TradeID.String(), "in trade order")
			assert.Equal(t, fill2, fills[1].TradeID.String())
			assert.True(t, fills[1].Reconciled)
			assert.Equal(t, "0.3", fills[1].LastFillQty.String())
			assert.Equal(t, "0.5", fills[1].CumFillQty.String())
			assert.GreaterOrEqual(t, s.Stats().Order.ReconcileErrors, uint64(1), "the failure counted")
			assert.Zero(t, s.Stats().Order.ReconcileGaps, "no gap: the retry found everything")
		})
	}
}
