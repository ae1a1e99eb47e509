package venuesim

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
)

// conn is one client connection, market stream or WS-API.
type conn struct {
	v  *Venue
	id uint64
	// ws is set once upgraded (nil before: the connection is registered
	// first); upgraded is closed when the upgrade is done or failed.
	ws       atomic.Pointer[websocket.Conn]
	upgraded chan struct{}
	raw      *faultConn
	combined atomic.Bool // wrap payloads as {"stream":...,"data":...}
	api      bool
	ip       string // the client's address, without its port
	okx      bool   // an OKX v5 public connection (okx.go)
	// okxOps counts an OKX connection's subscribe and unsubscribe
	// requests in the hour (Options.OKXRequestLimit).
	okxOps connLimiter
	// lastPush is when (venue clock, Unix ns) the writer last began a
	// write to an OKX connection: its idle cut counts from there.
	lastPush atomic.Int64
	// out queues the connection's messages for its writer; a nil message
	// is the last (closeAfterQueued): the writer closes with endCode.
	out      chan []byte
	ctx      context.Context
	cancel   context.CancelFunc
	stall    atomic.Bool // stop sending market data; keep answering
	closing  atomic.Bool // closeWith has begun: nothing more is queued
	killOnce sync.Once
	// limitMu guards recent and cut: messages are counted by the reader,
	// control frames by whichever goroutine reads them (a close
	// handshake reads too).
	limitMu sync.Mutex
	recent  []time.Time // receive times of the last IncomingLimit messages
	cut     bool        // closed for too many messages
	// endCode and endReason are closeAfterQueued's close frame, set
	// before its nil is queued.
	endCode   websocket.StatusCode
	endReason string

	mu      sync.Mutex
	subs    map[string]struct{}
	userSub int // WS-API user-data subscription id; -1 when none
	subSeq  int // the connection's subscriptions so far: the next one's id
	// noLimits: the WS-API URL said returnRateLimits=false.
	noLimits bool
	ageStop  context.CancelFunc // ends the age cut's wait
	// unadmit undoes, when the upgrade fails, what the handshake cost
	// before it (a ConnectLimit slot, the WS-API's connect weight): a
	// failed upgrade is no connection.
	unadmit func()
}

// accept registers the connection with its initial subscriptions and then
// upgrades the request: a connection is the venue's before its client
// holds the 101, so every message made after the client's Dial returns is
// queued to it, and Stats, Inject, CloseAPI, Close and the age cut see it.
// (Registered after the upgrade, messages made between the client's 101
// and the registration went to no one.) Messages queued meanwhile wait in
// the connection's send queue for its writer. It returns nil when the
// venue is closing or the upgrade fails; the connection is then gone from
// the venue again. prepare, when not nil, sets the connection's fields
// from the request before it is registered.
func (v *Venue) accept(w http.ResponseWriter, r *http.Request, api, combined bool, subs []string, prepare func(*conn)) *conn {
	fc, _ := r.Context().Value(connKey{}).(*faultConn)
	ctx, cancel := context.WithCancel(v.ctx)
	c := &conn{v: v, api: api, ip: clientIP(r), subs: map[string]struct{}{}, userSub: -1, raw: fc, ctx: ctx, cancel: cancel,
		out: make(chan []byte, v.opts.SendQueue), upgraded: make(chan struct{})}
	defer close(c.upgraded)
	c.combined.Store(combined)
	c.listen(subs, true)
	if prepare != nil {
		prepare(c)
	}
	opts := &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled}
	if !api && !c.okx {
		// Binance's market streams count control frames in the incoming
		// limit too ("WebSocket Limits": a PING frame, a PONG frame, a
		// JSON controlled message); the WS-API has no such limit.
		opts.OnPingReceived = func(context.Context, []byte) bool { return c.allowIncoming(v.now()) }
		opts.OnPongReceived = func(context.Context, []byte) { c.allowIncoming(v.now()) }
	}
	v.mu.Lock()
	if v.ctx.Err() != nil {
		// Close has killed the connections it knew of already.
		v.mu.Unlock()
		cancel()
		http.Error(w, "venue closed", http.StatusServiceUnavailable)
		return nil
	}
	c.id = v.connSeq.Add(1)
	v.conns[c] = struct{}{}
	v.active.Add(1)
	v.connsTotal.Add(1)
	v.mu.Unlock()
	c.armAge(time.Duration(v.maxAge.Load()))
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		if c.unadmit != nil {
			c.unadmit()
		}
		c.kill()
		c.forget()
		v.connsTotal.Add(^uint64(0)) // not accepted after all
		return nil
	}
	ws.SetReadLimit(1 << 20)
	c.ws.Store(ws)
	if c.ctx.Err() != nil {
		// Killed during the upgrade (Close, a fault, an age cut): kill
		// found no WebSocket to close.
		_ = ws.CloseNow()
		c.forget()
		return nil
	}
	return c
}

// forget removes the connection from the venue: its last step.
func (c *conn) forget() {
	v := c.v
	v.mu.Lock()
	delete(v.conns, c)
	v.mu.Unlock()
	c.listenNone()
	c.mu.Lock()
	if c.ageStop != nil {
		c.ageStop()
	}
	c.mu.Unlock()
	v.active.Add(-1)
}

// serveStream serves /ws, /ws/<stream> and /stream?streams=a/b.
func (v *Venue) serveStream(w http.ResponseWriter, r *http.Request) {
	if !v.enter() {
		http.Error(w, "venue closed", http.StatusServiceUnavailable)
		return
	}
	defer v.wg.Done()
	combined := strings.HasPrefix(r.URL.Path, "/stream")
	var names []string
	if combined {
		if q := r.URL.Query().Get("streams"); q != "" {
			names = strings.Split(q, "/")
		}
	} else if name := strings.TrimPrefix(r.URL.Path, "/ws/"); name != r.URL.Path && name != "" {
		names = []string{name}
	}
	if distinct(names) > maxStreams {
		http.Error(w, "at most "+strconv.Itoa(maxStreams)+" streams per connection", http.StatusBadRequest)
		return
	}
	ip, at := clientIP(r), v.now()
	if !v.admitHandshake(w, &v.connLimit, ip, at) {
		return
	}
	c := v.accept(w, r, false, combined, names, func(c *conn) {
		c.unadmit = func() { v.connLimit.release(ip, at) }
	})
	if c == nil {
		return
	}
	c.run(c.handleStreamRequest)
}

// run starts the writer and pinger, reads requests until the connection
// ends, and cleans up.
func (c *conn) run(handle func([]byte)) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.writeLoop() }()
	if c.okx { // OKX does not ping; it cuts a connection idle 30 s
		go func() { defer wg.Done(); c.okxIdleLoop() }()
	} else {
		go func() { defer wg.Done(); c.pingLoop() }()
	}
	for {
		_, msg, err := c.ws.Load().Read(c.ctx)
		if err != nil {
			break
		}
		handle(msg)
	}
	c.kill()
	wg.Wait()
	c.forget()
}

// kill ends the connection at once. Killed during its upgrade, the
// connection is closed by accept once the upgrade is done.
func (c *conn) kill() {
	c.killOnce.Do(func() {
		c.cancel()
		if ws := c.ws.Load(); ws != nil {
			_ = ws.CloseNow()
		}
	})
}

// upgradedWS waits for the upgrade and returns the connection's WebSocket,
// nil when the upgrade failed.
func (c *conn) upgradedWS() *websocket.Conn {
	<-c.upgraded
	return c.ws.Load()
}

func (c *conn) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case msg := <-c.out:
			if msg == nil { // closeAfterQueued: what came before is out
				_ = c.ws.Load().Close(c.endCode, c.endReason)
				c.kill()
				return
			}
			if c.okx {
				// Stored before the write, so that a client that has
				// read the message knows the idle cut counts from it.
				c.lastPush.Store(c.v.now().UnixNano())
			}
			if err := c.ws.Load().Write(c.ctx, websocket.MessageText, msg); err != nil {
				c.kill()
				return
			}
		}
	}
}

func (c *conn) pingLoop() {
	if c.v.opts.PingInterval < 0 {
		<-c.ctx.Done()
		return
	}
	for c.v.clock.Sleep(c.ctx, c.v.opts.PingInterval) == nil {
		if !c.ping() {
			return
		}
	}
}

// errNoPong is the cause of a ping's end when its pong did not come in
// time.
var errNoPong = errors.New("venuesim: no pong within Options.PongWait")

// ping pings the client and waits for its pong up to Options.PongWait of
// the venue's clock; false when the connection was dropped for it
// (Binance "WebSocket Limits": "If the websocket server does not receive
// a pong frame back from the connection within a 1 minute period, the
// connection will be disconnected"; USDⓈ-M futures: 10 minutes) or
// ended.
func (c *conn) ping() bool {
	ctx, cancel := context.WithCancelCause(c.ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if c.v.clock.Sleep(ctx, c.v.opts.PongWait) == nil {
			cancel(errNoPong)
		}
	}()
	err := c.ws.Load().Ping(ctx)
	cancel(nil)
	wg.Wait()
	if err != nil && c.ctx.Err() == nil {
		c.kill()
		return false
	}
	return err == nil
}

// send queues a message, dropping the connection when it fell too far
// behind (as Binance does with slow consumers).
func (c *conn) send(msg []byte) {
	if c.stall.Load() || c.closing.Load() {
		return
	}
	select {
	case c.out <- msg:
		c.v.sent.Add(1)
	default:
		c.dropSlow()
	}
}

// dropSlow drops a connection whose send queue is full (1008 "too
// slow"), counted once in Stats.SlowDropped however many messages found
// the queue full before it was gone.
func (c *conn) dropSlow() {
	if c.closeWith(websocket.StatusPolicyViolation, "too slow") {
		c.v.slow.Add(1)
	}
}

// closeWith closes the connection with a close frame, in the background:
// the close handshake may take a while. Only the first call of a
// connection does it (and reports true): one close handshake, one
// goroutine, whatever else asks for a close meanwhile; nothing more is
// queued to a closing connection.
func (c *conn) closeWith(code websocket.StatusCode, reason string) bool {
	if !c.closing.CompareAndSwap(false, true) {
		return false
	}
	if !c.v.spawn(func() {
		// A connection still upgrading is closed, with its frame, once
		// it is upgraded: the cut is the client's to see.
		if ws := c.upgradedWS(); ws != nil {
			_ = ws.Close(code, reason)
		}
		c.kill()
	}) {
		c.kill() // the venue is closing: no handshake
	}
	return true
}

// closeAfterQueued closes the connection with a close frame once the
// messages queued before are written (a refusal and then the cut). Like
// closeWith, only the first close of a connection does anything, and
// nothing is queued after it; a full queue is cut at once.
func (c *conn) closeAfterQueued(code websocket.StatusCode, reason string) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.endCode, c.endReason = code, reason
	select {
	case c.out <- nil:
	default:
		c.kill()
	}
}

// armAge (re)arms the maximum-age cut: d from now on the venue's clock.
// OKX connections are never cut for their age: OKX documents no such cut.
func (c *conn) armAge(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ageStop != nil {
		c.ageStop()
		c.ageStop = nil
	}
	if d <= 0 || c.okx {
		return
	}
	ctx, stop := context.WithCancel(c.ctx)
	c.ageStop = stop
	c.v.spawn(func() {
		if c.v.clock.Sleep(ctx, d) == nil {
			c.closeWith(websocket.StatusNormalClosure, "connection age limit")
		}
	})
}

// subscribed returns, in order, the streams of streams the connection is
// subscribed to, appended to dst: each is a stream of its own, sent
// apart, as Binance sends btcusdt@depth and btcusdt@depth@100ms.
func (c *conn) subscribed(dst, streams []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range streams {
		if _, ok := c.subs[s]; ok {
			dst = append(dst, s)
		}
	}
	return dst
}

// streamRequest is a market-stream control request.
type streamRequest struct {
	Method string           `json:"method"`
	Params []jsontext.Value `json:"params"`
	ID     jsontext.Value   `json:"id"`
}

// handleStreamRequest answers SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS,
// SET_PROPERTY and GET_PROPERTY the way Binance does.
func (c *conn) handleStreamRequest(msg []byte) {
	if !c.allowIncoming(c.v.now()) {
		return
	}
	var req streamRequest
	if err := json.Unmarshal(msg, &req); err != nil {
		c.reply(venueError(3, "Invalid JSON: expected value at line 1 column 1", nil))
		return
	}
	id := req.ID
	if !validID(id) {
		c.reply(venueError(2, "Invalid request: request ID must be an unsigned integer", nil))
		return
	}
	switch req.Method {
	case "SUBSCRIBE", "UNSUBSCRIBE":
		names := make([]string, 0, len(req.Params))
		for _, p := range req.Params {
			var s string
			if json.Unmarshal(p, &s) != nil || !validStream(s) {
				c.reply(venueError(2, "Invalid request: invalid stream", id))
				return
			}
			names = append(names, s)
		}
		if req.Method == "SUBSCRIBE" && c.wouldListen(names) > maxStreams {
			c.reply(venueError(2, "Invalid request: at most "+strconv.Itoa(maxStreams)+" streams per connection", id))
			return
		}
		// A SUBSCRIBE's answer is queued before the new streams are switched
		// on, so it reaches the client ahead of their first message (the
		// same queue carries both); an UNSUBSCRIBE is answered once its
		// streams are off.
		if req.Method == "SUBSCRIBE" {
			c.reply(result([]byte("null"), id))
		}
		c.listen(names, req.Method == "SUBSCRIBE")
		if req.Method == "UNSUBSCRIBE" {
			c.reply(result([]byte("null"), id))
		}
	case "LIST_SUBSCRIPTIONS":
		c.mu.Lock()
		list := make([]string, 0, len(c.subs))
		for s := range c.subs {
			list = append(list, s)
		}
		c.mu.Unlock()
		sortStrings(list)
		c.reply(result(marshal(list), id))
	case "SET_PROPERTY":
		if code, msg := checkProperty(req.Params, 2); code >= 0 {
			c.reply(venueError(code, msg, id))
			return
		}
		var val string
		if len(req.Params) == 2 {
			val = string(req.Params[1])
		}
		switch val {
		case "true":
			c.combined.Store(true)
		case "false":
			c.combined.Store(false)
		default:
			c.reply(venueError(1, "Invalid value type: expected Boolean", id))
			return
		}
		c.reply(result([]byte("null"), id))
	case "GET_PROPERTY":
		if code, msg := checkProperty(req.Params, 1); code >= 0 {
			c.reply(venueError(code, msg, id))
			return
		}
		val := "false"
		if c.combined.Load() {
			val = "true"
		}
		c.reply(result([]byte(val), id))
	case "":
		// No method (taken for an empty one too), as Binance's table
		// words it.
		c.reply(venueError(2, "Invalid request: missing field `method` at line 1 column 73", id))
	default:
		c.reply(venueError(2, "Invalid request: unknown variant `"+req.Method+"`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column 28", id))
	}
}

// checkProperty checks SET_PROPERTY's or GET_PROPERTY's params (most:
// how many the method takes) as Binance answers them ("WebSocket Streams",
// "Error Messages"): a name missing or not a string is code 2 "Invalid
// request: property name must be a string", more params code 2 "Invalid
// request: too many parameters", a name other than combined code 0
// "Unknown property". It returns code -1 when they are good.
func checkProperty(params []jsontext.Value, most int) (code int, msg string) {
	switch {
	case len(params) == 0 || len(params[0]) == 0 || params[0][0] != '"':
		return 2, "Invalid request: property name must be a string"
	case len(params) > most:
		return 2, "Invalid request: too many parameters"
	case string(params[0]) != `"combined"`:
		return 0, "Unknown property"
	}
	return -1, ""
}

// maxStreams is how many streams one connection may listen to (Binance
// "WebSocket Limits": "A single connection can listen to a maximum of
// 1024 streams").
const maxStreams = 1024

// distinct is how many different names there are.
func distinct(names []string) int {
	seen := make(map[string]struct{}, len(names))
	for _, n := range names {
		seen[n] = struct{}{}
	}
	return len(seen)
}

// wouldListen is how many streams the connection would listen to with
// names added.
func (c *conn) wouldListen(names []string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.subs)
	seen := make(map[string]struct{}, len(names))
	for _, s := range names {
		if _, ok := c.subs[s]; !ok {
			if _, dup := seen[s]; !dup {
				seen[s] = struct{}{}
				n++
			}
		}
	}
	return n
}

// allowIncoming counts one incoming message (a request, a ping or a pong
// frame) at now and reports whether it is within Options.IncomingLimit a
// second; the first one past it closes the connection (1008), and later
// ones are ignored while it closes.
func (c *conn) allowIncoming(now time.Time) bool {
	limit := c.v.opts.IncomingLimit
	if limit < 0 {
		return true
	}
	c.limitMu.Lock()
	defer c.limitMu.Unlock()
	if c.cut {
		return false
	}
	if n := len(c.recent); n > 0 && now.Before(c.recent[n-1]) {
		// The clock stepped back (Options.Clock without a monotonic
		// reading): the messages counted lie in its future, every new
		// one would be within a second of them. The second starts again.
		c.recent = c.recent[:0]
	}
	if len(c.recent) == limit && now.Sub(c.recent[0]) < time.Second {
		c.cut = true
		c.v.tooMany.Add(1)
		c.closeWith(websocket.StatusPolicyViolation, "Too many requests")
		return false
	}
	if len(c.recent) == limit {
		c.recent = append(c.recent[:0], c.recent[1:]...)
	}
	c.recent = append(c.recent, now)
	return true
}

// validID accepts the request ids Binance documents: for the market
// streams' requests "a 64-bit signed integer, alphanumeric strings; max
// length 36, null" ("Live Subscribing/Unsubscribing to streams"), for the
// WS-API "an integer, a string matching '^[a-zA-Z0-9-_]{1,36}$', or null"
// (its -1135 answer). Both take the WS-API's string rule here: a UUID
// of 36 is the id the length was set for.
func validID(id jsontext.Value) bool {
	switch {
	case len(id) == 0:
		return false
	case string(id) == "null":
		return true
	case id[0] == '"':
		var s string
		if json.Unmarshal(id, &s) != nil || s == "" || len(s) > 36 {
			return false
		}
		for i := range len(s) {
			if !clientIDByte(s[i]) {
				return false
			}
		}
		return true
	}
	_, err := strconv.ParseInt(string(id), 10, 64)
	return err == nil
}

// validStream accepts a well-formed name of a stream the venue serves:
// <symbol>@<kind>, the symbol in lowercase letters and digits. A symbol the
// venue does not list is accepted, as Binance accepts it (a SUBSCRIBE to
// xrpxrp@miniTicker answers success and sends nothing, JKorf/Binance.Net
// #620): its subscriber waits for data that never comes.
func validStream(s string) bool {
	if allMarketStream(s) >= 0 {
		return true
	}
	sym, kind, ok := strings.Cut(s, "@")
	if !ok || sym == "" || strings.Trim(sym, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return false
	}
	switch kind {
	case "trade", "aggTrade", "bookTicker", "depth", "depth@100ms":
		return true
	}
	if _, _, ok := parsePartialDepth(s); ok {
		return true
	}
	if _, _, ok := parseTicker(s); ok {
		return true
	}
	_, _, _, ok = parseKlineStream(s)
	return ok
}

// listen adds (on) or removes the streams names of the connection's, and
// counts the connection in or out of each kline and partial depth
// stream it names (market.listen): the generator keeps only the candles,
// and formats only the partial books, somebody listens to.
func (c *conn) listen(names []string, on bool) {
	m := c.v.mkt
	m.mu.Lock() // before c.mu, as klines → broadcast takes them
	defer m.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range names {
		if _, had := c.subs[s]; had == on {
			continue
		}
		if on {
			c.subs[s] = struct{}{}
		} else {
			delete(c.subs, s)
		}
		m.listen(s, on)
	}
}

// listenNone removes every stream of the connection's: it has ended.
func (c *conn) listenNone() {
	c.mu.Lock()
	names := make([]string, 0, len(c.subs))
	for s := range c.subs {
		names = append(names, s)
	}
	c.mu.Unlock()
	c.listen(names, false)
}

func result(res []byte, id jsontext.Value) []byte {
	return marshal(&struct {
		Result jsontext.Value `json:"result"`
		ID     jsontext.Value `json:"id"`
	}{res, nullIfEmpty(id)})
}

// venueError is Binance's market-stream error shape.
func venueError(code int, msg string, id jsontext.Value) []byte {
	type errorBody struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	return marshal(&struct {
		Error errorBody      `json:"error"`
		ID    jsontext.Value `json:"id"`
	}{errorBody{code, msg}, nullIfEmpty(id)})
}

// marshal encodes one of the simulator's own answer structs with goccy's
// v2 API; they cannot fail to encode. Answers are rare and each needs a
// buffer of its own (it is queued), so this allocates.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("venuesim: encoding an answer: " + err.Error())
	}
	return b
}

func nullIfEmpty(id jsontext.Value) jsontext.Value {
	if len(id) == 0 {
		return jsontext.Value("null")
	}
	return id
}

// reply sends a control answer; answers are never stalled.
func (c *conn) reply(msg []byte) {
	if c.closing.Load() {
		return
	}
	select {
	case c.out <- msg:
	default:
		c.dropSlow()
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// faultListener hands out faultConns so that faults can act on the TCP
// connection under a WebSocket.
type faultListener struct{ net.Listener }

func (l *faultListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c, thaw: make(chan struct{})}, nil
}

// faultConn can freeze: then nothing is read or written any more (a
// half-open connection: pings go unanswered), until it is closed.
type faultConn struct {
	net.Conn
	frozen    atomic.Bool
	thaw      chan struct{}
	closeOnce sync.Once
}

func (f *faultConn) Read(p []byte) (int, error) {
	n, err := f.Conn.Read(p)
	if f.frozen.Load() {
		<-f.thaw
		return 0, net.ErrClosed
	}
	return n, err
}

func (f *faultConn) Write(p []byte) (int, error) {
	if f.frozen.Load() {
		return len(p), nil
	}
	return f.Conn.Write(p)
}

func (f *faultConn) Close() error {
	f.closeOnce.Do(func() { close(f.thaw) })
	return f.Conn.Close()
}

// reset closes the TCP connection with an RST instead of a FIN.
func (f *faultConn) reset() {
	if tc, ok := f.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = f.Close()
}
