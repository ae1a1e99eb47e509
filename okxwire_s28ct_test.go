package meltica_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// s28ctOKX is a loopback OKX v5: the public and private WebSockets and
// the REST calls a session makes, answering as OKX's docs show, and
// recording every text message the private connection receives.
type s28ctOKX struct {
	srv   *httptest.Server
	mu    sync.Mutex
	priv  []string
	got   chan struct{}
	conns map[*websocket.Conn]bool // open private connections
	keep  int                      // messages of priv kept (0: all)
}

func newS28ctOKX(t *testing.T) *s28ctOKX {
	o := &s28ctOKX{got: make(chan struct{}, 64), conns: map[*websocket.Conn]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v5/public/instruments", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"code":"0","msg":"","data":[{"instType":"SPOT","instId":"BTC-USDT","uly":"","baseCcy":"BTC","quoteCcy":"USDT","settleCcy":"","ctVal":"","ctMult":"","ctValCcy":"","tickSz":"0.1","lotSz":"0.00000001","minSz":"0.00001","maxLmtSz":"9999999999","maxMktSz":"1000000","maxLmtAmt":"20000000","maxMktAmt":"1000000","state":"live"}]}`)
	})
	mux.HandleFunc("/api/v5/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"code":"0","msg":"","data":[]}`)
	})
	serve := func(private bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer func() { _ = c.CloseNow() }()
			if private {
				o.mu.Lock()
				o.conns[c] = true
				o.mu.Unlock()
				defer func() {
					o.mu.Lock()
					delete(o.conns, c)
					o.mu.Unlock()
				}()
			}
			ctx := r.Context()
			for {
				_, msg, err := c.Read(ctx)
				if err != nil {
					return
				}
				s := string(msg)
				if s == "ping" {
					_ = c.Write(ctx, websocket.MessageText, []byte("pong"))
					continue
				}
				if private {
					o.mu.Lock()
					if o.keep == 0 || len(o.priv) < o.keep {
						o.priv = append(o.priv, s)
					}
					o.mu.Unlock()
					select {
					case o.got <- struct{}{}:
					default:
					}
				}
				m := s28ctJSON(t, msg)
				var answers []string
				switch m["op"] {
				case "login":
					answers = append(answers, `{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}`)
				case "subscribe":
					for _, a := range m["args"].([]any) {
						arg, _ := s28ctArgJSON(a)
						// OKX v5 "WebSocket → Subscribe": the request's id "will be
						// returned in response message".
						id := ""
						if v, ok := m["id"].(string); ok {
							id = fmt.Sprintf(`"id":%q,`, v)
						}
						answers = append(answers, `{`+id+`"event":"subscribe","arg":`+arg+`,"connId":"a4d3ae55"}`)
					}
				case "order", "cancel-order":
					a := m["args"].([]any)[0].(map[string]any)
					cid, _ := a["clOrdId"].(string)
					answers = append(answers, fmt.Sprintf(`{"id":%q,"op":%q,"code":"0","msg":"","data":[{"clOrdId":%q,"ordId":"312269865356374016","tag":"","ts":"1695190491421","sCode":"0","sMsg":""}],"inTime":"1695190491421339","outTime":"1695190491423240"}`, m["id"], m["op"], cid))
				}
				for _, a := range answers {
					if err := c.Write(ctx, websocket.MessageText, []byte(a)); err != nil {
						return
					}
				}
			}
		}
	}
	mux.HandleFunc("/ws/v5/public", serve(false))
	mux.HandleFunc("/ws/v5/private", serve(true))
	o.srv = httptest.NewServer(mux)
	return o
}

// s28ctArgJSON re-encodes a decoded JSON value (an OKX subscription's
// arg, echoed in its ack).
func s28ctArgJSON(v any) (string, error) {
	m, _ := v.(map[string]any)
	parts := make([]string, 0, len(m))
	for k, x := range m {
		parts = append(parts, fmt.Sprintf("%q:%q", k, fmt.Sprint(x)))
	}
	return "{" + strings.Join(parts, ",") + "}", nil
}

// dropPrivate cuts the open private connections (no close frame).
func (o *s28ctOKX) dropPrivate() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for c := range o.conns {
		_ = c.CloseNow()
		delete(o.conns, c)
	}
}

func (o *s28ctOKX) openPrivate() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.conns)
}

func (o *s28ctOKX) ws(path string) string { return "ws" + strings.TrimPrefix(o.srv.URL, "http") + path }

func (o *s28ctOKX) messages() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.priv...)
}

// What an OKX session sends on its private WebSocket, captured by a
// loopback venue, against OKX v5's documented formats: the login first
// ("WebSocket → Login": op login, timestamp the Unix time in SECONDS,
// sign = Base64(HMAC-SHA256(secret, timestamp+"GET"+"/users/self/verify")),
// made with the time of the connection), the private subscriptions after
// the login's answer, then an order ("WS / Place order": id a string of
// at most 32 alphanumerics, sz and px strings, tdMode cash for spot) and
// its cancel ("WS / Cancel order").
func TestS28ctOKXSessionSendsDocumentedRequests(t *testing.T) {
	ctx := context.Background()
	o := newS28ctOKX(t)
	defer o.srv.Close()
	secret := []byte("okx-secret")
	start := time.Now()
	s, err := session.Start(ctx, session.Config{
		Venue:       schema.VenueOKX,
		Endpoints:   session.Endpoints{Stream: o.ws("/ws/v5/public"), API: o.ws("/ws/v5/private"), REST: o.srv.URL},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trades"},
		Key:         &session.OKXKey{APIKey: "okx-key", Passphrase: "okx-pass", Secret: secret},
		NoClockSync: true,
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(ctx)) }()
	wctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))

	req := s27ctOrder(t, s, "s28ctokx1")
	req.Venue, req.Price = schema.VenueOKX, schema.MustParseDecimal("1000.1")
	ack, err := s.Place(wctx, req)
	require.NoError(t, err)
	assert.Equal(t, "312269865356374016", ack.VenueOrderID.String())
	req.Reset()
	req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueOKX, "BTC-USDT", schema.MustID("s28ctokx1")
	_, err = s.Cancel(wctx, req)
	require.NoError(t, err)
	s.Pools().Orders.Put(req)
	end := time.Now()

	msgs := o.messages()
	require.GreaterOrEqual(t, len(msgs), 4, "login, subscriptions, order, cancel: %v", msgs)
	login := s28ctJSON(t, []byte(msgs[0]))
	require.Equal(t, "login", login["op"], "the login comes first: %v", msgs)
	a := s28ctObj(t, login["args"].([]any)[0], "login args")
	ts := s28ctStr(t, a, "timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err, "timestamp %q: whole seconds", ts)
	assert.True(t, sec >= start.Unix()-1 && sec <= end.Unix()+1, "timestamp %d: Unix seconds of now", sec)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "GET/users/self/verify"))
	assert.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), s28ctStr(t, a, "sign"))
	assert.Equal(t, "okx-key", s28ctStr(t, a, "apiKey"))
	assert.Equal(t, "okx-pass", s28ctStr(t, a, "passphrase"))

	var order, cancelOp map[string]any
	subscribed := false
	for _, m := range msgs[1:] {
		j := s28ctJSON(t, []byte(m))
		switch j["op"] {
		case "subscribe":
			subscribed = true
			for _, x := range j["args"].([]any) {
				if arg := s28ctObj(t, x, "subscribe arg"); arg["channel"] == "orders" {
					assert.Contains(t, []any{"SPOT", "ANY"}, arg["instType"], "orders of spot instruments (or ANY)")
				}
			}
		case "order":
			assert.True(t, subscribed, "the order goes after the private subscriptions")
			order = j
		case "cancel-order":
			cancelOp = j
		}
	}
	require.NotNil(t, order, "an order op: %v", msgs)
	id := s28ctStr(t, order, "id")
	assert.Regexp(t, `^[A-Za-z0-9]{1,32}$`, id, "id: 1-32 alphanumerics")
	oa := s28ctObj(t, order["args"].([]any)[0], "order args")
	assert.Equal(t, "BTC-USDT", s28ctStr(t, oa, "instId"))
	assert.Equal(t, "cash", s28ctStr(t, oa, "tdMode"))
	assert.Equal(t, "buy", s28ctStr(t, oa, "side"))
	assert.Equal(t, "limit", s28ctStr(t, oa, "ordType"))
	assert.Equal(t, "0.5", s28ctStr(t, oa, "sz"))
	assert.Equal(t, "1000.1", s28ctStr(t, oa, "px"))
	assert.Equal(t, "s28ctokx1", s28ctStr(t, oa, "clOrdId"))
	require.NotNil(t, cancelOp, "a cancel-order op: %v", msgs)
	assert.NotEqual(t, id, s28ctStr(t, cancelOp, "id"), "a fresh request id")
	ca := s28ctObj(t, cancelOp["args"].([]any)[0], "cancel args")
	assert.Equal(t, "BTC-USDT", s28ctStr(t, ca, "instId"))
	assert.Equal(t, "s28ctokx1", s28ctStr(t, ca, "clOrdId"))
}

// Long life of an OKX private connection: the venue drops it 1,000 times
// (the redials' backoff on an injected clock, Rand 0). Every reconnect logs
// in anew (a login signed with that connection's time) and subscribes the
// private channels again; from the 100th to the 1,000th goroutines, the
// live heap (2 MiB) and the pools stay flat, and there is exactly one
// login per connection.
func TestS28ctThousandOKXPrivateReconnectsStayFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 reconnects")
	}
	const warm, total = 100, 1000
	ctx := context.Background()
	o := newS28ctOKX(t)
	o.keep = 16
	defer o.srv.Close()
	conns := &s28ctConnected{role: session.RoleOrders, ch: make(chan struct{}, 1)}
	s, err := session.Start(ctx, session.Config{
		Venue:       schema.VenueOKX,
		Endpoints:   session.Endpoints{Stream: o.ws("/ws/v5/public"), API: o.ws("/ws/v5/private"), REST: o.srv.URL},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trades"},
		Key:         &session.OKXKey{APIKey: "okx-key", Passphrase: "okx-pass", Secret: []byte("okx-secret")},
		NoClockSync: true,
		Client: wsclient.Options{Clock: newS27ctClock(), Rand: func(int64) int64 { return 0 },
			PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1, HeartbeatInterval: time.Hour},
		OnState: conns.on,
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(ctx)) }()
	wctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))
	conns.mu.Lock()
	first := conns.last
	conns.mu.Unlock()

	var mark s28ctMark
	var was session.Stats
	for i := 1; i <= total; i++ {
		require.Eventually(t, func() bool { return o.openPrivate() > 0 }, s27ctWait, 100*time.Microsecond, "reconnect %d: the venue holds the connection", i)
		o.dropPrivate()
		conns.await(t, first+uint64(i))
		require.NoError(t, s.WaitConnected(wctx), "reconnect %d: logged in and subscribed again", i)
		if i == warm {
			was = s.Stats()
			mark = s28ctMarkNow(was.Pools)
		}
	}
	st := s.Stats()
	mark.flat(t, total-warm, "reconnects", st.Pools)
	assert.Equal(t, uint64(total-warm), st.Order.UserDataSubs-was.Order.UserDataSubs, "one login per connection")
	assert.Zero(t, st.Order.Refused+st.Order.ReconcileErrors+st.Order.TrackOverflow, "%+v", st.Order)
	assert.Zero(t, st.Orders.Parser.Errors+st.Orders.Parser.Unknown, "%+v", st.Orders.Parser)
	t.Logf("orders connection: %+v", st.Orders.Client.Reconnects)
}
