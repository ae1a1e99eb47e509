package venuesim

import (
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json/v2"
)

// OKX v5 public market data, on the venue's market (OKX API v5 "WebSocket
// Public Channel", https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws):
// /ws/v5/public serves the subscribe and unsubscribe ops and the channels
// books (updates with seqId/prevSeqId, checksum 0, as OKX serves it
// today; Options.OKXBooks: a snapshot first and the checksum of the top
// 25 levels, as before the delisting; a keep-alive after 60 s without a
// change),
// bbo-tbt, trades and tickers for each symbol as
// its instId (BTCUSDT is BTC-USDT); "ping" is answered "pong"; a
// connection to which nothing was pushed for 30 s is closed; and
// FaultServerShutdown sends OKX's 64008 notice.

// OKXBooks is how the venue's OKX books channel starts and what its
// checksum holds (Options.OKXBooks).
type OKXBooks int

const (
	// OKXBooksCurrent serves the books channel as OKX does today (API
	// changelog "Delist initial snapshot and checksum field in order book
	// channels": "the initial snapshot and checksum push field will not be
	// returned, please use the GET / Order book endpoint to get the
	// snapshot data"; "OKX Order Book Channels Checksum Field
	// Deprecation", 21 May 2026: the checksum "will remain present in push
	// messages but will always return 0", in production from 23 June
	// 2026): a subscription is answered, then sent updates only, the first
	// chained on a seqId the client never saw, every checksum 0. The book
	// is to be had from GET /api/v5/market/books.
	OKXBooksCurrent OKXBooks = iota
	// OKXBooksSnapshot serves it as OKX did before the delisting: a
	// snapshot of every level first (prevSeqId -1), then updates, each
	// push with the CRC32 checksum of the top 25 levels a side.
	OKXBooksSnapshot
	// OKXBooksEmptySnapshot serves the transition the docs' "How to
	// manage a local order book correctly" describes ("Ignore the first
	// event received (action is snapshot)"): a "snapshot" push with no
	// levels (its exact content is not documented), then updates, every
	// checksum 0.
	OKXBooksEmptySnapshot
)

// okxRequestsAnHour is OKX's limit of subscribe, unsubscribe and login
// requests a connection ("WebSocket", "Connect": "limited to 480 times
// per hour").
const okxRequestsAnHour = 480

// okxIdle is how long OKX keeps a connection nothing was pushed to ("The
// connection will break automatically if the subscription is not
// established or data has not been pushed for more than 30 seconds").
const okxIdle = 30 * time.Second

// okxCloseIdle is the close code OKX cuts an idle connection with
// (v5 "Error Code", WebSocket close codes: 4004 "No data received in
// 30s.").
const okxCloseIdle websocket.StatusCode = 4004

// okxKeepAliveAfter is how long OKX's books channel goes without a
// change before its keep-alive ("Order book channel", "Sequence ID": "If
// there are no updates to the depth for an extended period (Around 60
// seconds) [...] a message with 'asks': [], 'bids': [] will be sent to let
// users know that the connection is still on. seqId is the same as the
// last sent message and prevSeqId equals to seqId.").
const okxKeepAliveAfter = 60 * time.Second

// okxChannels are the public channels the venue serves.
var okxChannels = [...]string{"books", "bbo-tbt", "trades", "tickers"}

// OKXURL is the OKX v5 public WebSocket endpoint, ws://127.0.0.1:port/ws/v5/public.
func (v *Venue) OKXURL() string { return v.URL() + "/ws/v5/public" }

// instID is a symbol's OKX instrument id (BTCUSDT: BTC-USDT).
func (s *symbolState) instID() string { return s.base + "-" + s.quote }

// serveOKX serves /ws/v5/public.
func (v *Venue) serveOKX(w http.ResponseWriter, r *http.Request) {
	if !v.enter() {
		http.Error(w, "venue closed", http.StatusServiceUnavailable)
		return
	}
	defer v.wg.Done()
	if until, banned := v.bans.bannedUntil(clientIP(r), v.now()); banned {
		v.writeBanned(w, v.now(), until)
		return
	}
	if ok, _ := v.okxConnLimit.admit(clientIP(r), v.now()); !ok {
		// Past OKX's connects a second (Options.OKXConnectLimit).
		v.connRefused.Add(1)
		writeOKXTooMany(w)
		return
	}
	c := v.accept(w, r, false, false, nil, func(c *conn) {
		c.okx = true
		c.okxOps = connLimiter{limit: v.opts.OKXRequestLimit, window: time.Hour}
		c.lastPush.Store(v.now().UnixNano())
	})
	if c == nil {
		return
	}
	v.okxConns.Add(1)
	defer v.okxConns.Add(-1)
	c.run(c.handleOKXRequest)
}

// okxIdleLoop closes the connection once nothing was pushed to it for
// okxIdle of the venue's clock (a clock stepped back: of the clock from
// the step).
func (c *conn) okxIdleLoop() {
	for {
		now := c.v.now()
		last := c.lastPush.Load()
		if now.UnixNano() < last {
			// The clock stepped back: count from now, not from a push
			// the clock must regain the step to reach.
			c.lastPush.CompareAndSwap(last, now.UnixNano())
			continue
		}
		wait := time.Unix(0, last).Add(okxIdle).Sub(now)
		if wait <= 0 {
			c.closeWith(okxCloseIdle, "No data received in 30s.")
			return
		}
		if c.v.clock.Sleep(c.ctx, wait) != nil {
			return
		}
	}
}

// okxArg is a channel and instrument of a subscribe op.
type okxArg struct {
	Channel string `json:"channel"`
	InstID  string `json:"instId"`
}

// handleOKXRequest answers "ping" and the subscribe/unsubscribe ops
// (answers per arg, {"event":"subscribe","arg":{…},"connId":…}; errors
// {"event":"error","code":"60012"|"60018"|"60019","msg":…,"connId":…}),
// each with
// the request's "id" first when it has one ("Order book channel": id,
// "Unique identifier of message (client provided)", echoed in the
// Response and Failure examples).
func (c *conn) handleOKXRequest(msg []byte) {
	if string(msg) == "ping" {
		c.reply([]byte("pong"))
		return
	}
	var req struct {
		ID   string   `json:"id"`
		Op   string   `json:"op"`
		Args []okxArg `json:"args"`
	}
	err := json.Unmarshal(msg, &req)
	if err == nil && req.Op != "" && req.Op != "subscribe" && req.Op != "unsubscribe" {
		// An op OKX does not know: 60019 "Invalid op: {op}" ("Error
		// Code", WebSocket Public, General Class).
		c.reply(c.okxError(req.ID, "60019", "Invalid op: "+strings.ToValidUTF8(req.Op, "\uFFFD")))
		return
	}
	if err == nil && req.Op != "" {
		// A subscribe or unsubscribe counts against the connection's
		// hour, understood or not past here (OKX counts "requests").
		if ok, _ := c.okxOps.admit("", c.v.now()); !ok {
			c.reply(c.okxError(req.ID, "60014", "Requests too frequent."))
			return
		}
	}
	if err != nil || req.Op == "" || len(req.Args) == 0 {
		// The request echoed, as OKX echoes it; bytes that are no UTF-8
		// replaced (an answer must encode: found by FuzzS30OKXRequests).
		c.reply(c.okxError(req.ID, "60012", "Invalid request: "+strings.ToValidUTF8(string(msg), "\uFFFD")))
		return
	}
	for _, a := range req.Args {
		s := c.v.okxSymbol(a.InstID)
		if s == nil || !okxServed(a.Channel) {
			c.reply(c.okxError(req.ID, "60018", "Wrong URL or channel:"+a.Channel+",instId:"+a.InstID+
				" doesn't exist. Please use the correct URL, channel and parameters referring to API document."))
			continue
		}
		c.okxSubscribe(req.ID, req.Op, a, s)
	}
}

func okxServed(channel string) bool {
	for _, ch := range okxChannels {
		if ch == channel {
			return true
		}
	}
	return false
}

// okxSymbol is the symbol of an OKX instId, nil when the venue has none.
func (v *Venue) okxSymbol(instID string) *symbolState {
	for _, s := range v.mkt.symbols {
		if s.instID() == instID {
			return s
		}
	}
	return nil
}

// okxSubscribe (un)subscribes the connection to a channel of s. A books
// subscription is answered, then sent its updates, the first chained on
// the seqId of the update before it (OKXBooksCurrent: the client joins
// the REST book by it), or with Options.OKXBooks first its snapshot: the
// generator is held meanwhile, so the snapshot's seqId is the next
// update's prevSeqId.
func (c *conn) okxSubscribe(id, op string, a okxArg, s *symbolState) {
	v := c.v
	ack := marshal(&struct {
		ID     string `json:"id,omitempty"`
		Event  string `json:"event"`
		Arg    okxArg `json:"arg"`
		ConnID string `json:"connId"`
	}{id, op, a, c.okxConnID()})
	name := a.Channel + ":" + a.InstID
	if op == "unsubscribe" {
		c.mu.Lock()
		delete(c.subs, name)
		c.mu.Unlock()
		c.reply(ack)
		return
	}
	v.stepping.Lock()
	defer v.stepping.Unlock()
	c.reply(ack)
	if a.Channel == "books" && v.opts.OKXBooks != OKXBooksCurrent {
		m := v.mkt
		m.mu.Lock()
		// The changes batched for the other subscribers go out first:
		// the new one's first update then follows its snapshot.
		pending := v.okxFlushBooks(s, v.now())
		ms := v.now().UnixMilli()
		var bids, asks []level
		if v.opts.OKXBooks == OKXBooksSnapshot {
			bids, asks = bookLevels(s, true, len(s.bids)), bookLevels(s, false, len(s.asks))
		}
		snap := v.okxBook(s, "snapshot", ms, bids, asks, -1, s.updID)
		s.okxBookAt = ms
		m.mu.Unlock()
		if pending != nil {
			v.broadcast([]string{"books:" + s.instID()}, pending)
		}
		c.reply(snap)
	}
	c.mu.Lock()
	c.subs[name] = struct{}{}
	c.mu.Unlock()
}

// okxKeepAlive sends the books keep-alive of each symbol whose depth did
// not change, and whose books channel pushed nothing, for
// okxKeepAliveAfter of the venue's clock: an
// update with no levels, seqId the last one sent and prevSeqId equal to
// it. The generator calls it on each of its wakes while an OKX connection
// is open, the market paused or not.
func (v *Venue) okxKeepAlive(now time.Time) {
	ms := now.UnixMilli()
	v.stepping.Lock()
	defer v.stepping.Unlock()
	m := v.mkt
	for _, s := range m.symbols {
		var msg []byte
		m.mu.Lock()
		if ms < s.okxBookAt { // the clock stepped back: count from now
			s.okxBookAt = ms
		}
		if ms-s.okxBookAt >= okxKeepAliveAfter.Milliseconds() {
			s.okxBookAt = ms
			msg = v.okxBook(s, "update", ms, nil, nil, int64(s.updID), s.updID)
		}
		m.mu.Unlock()
		if msg != nil {
			v.broadcast([]string{"books:" + s.instID()}, msg)
		}
	}
}

func (c *conn) okxConnID() string { return strconv.FormatUint(0x5a000000+c.id, 16) }

func (c *conn) okxError(id, code, msg string) []byte {
	return marshal(&struct {
		ID     string `json:"id,omitempty"`
		Event  string `json:"event"`
		Code   string `json:"code"`
		Msg    string `json:"msg"`
		ConnID string `json:"connId"`
	}{id, "error", code, msg, c.okxConnID()})
}

// okxPush starts a channel push: {"arg":{"channel":…,"instId":…}, then
// the action if any, then "data":[{ (the caller appends the object's
// members and closes it with okxEnd).
func okxPush(b []byte, channel, instID, action string) []byte {
	b = append(b, `{"arg":{"channel":"`...)
	b = append(append(b, channel...), `","instId":"`...)
	b = append(append(b, instID...), `"}`...)
	if action != "" {
		b = append(append(append(b, `,"action":"`...), action...), '"')
	}
	return append(b, `,"data":[{`...)
}

func okxEnd(b []byte) []byte { return append(b, "}]}"...) }

// okxLevels appends a side as OKX's [["price","size","0","orders"],…]
// (a deleted level: size "0", orders "0").
func okxLevels(b []byte, lv []level) []byte {
	b = append(b, '[')
	for i, x := range lv {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(fmtDec(append(b, `["`...), x.price), `","`...)
		b = append(fmtDec(b, x.qty), `","0","`...)
		orders := byte('1')
		if x.qty == 0 {
			orders = '0'
		}
		b = append(b, orders, '"', ']')
	}
	return append(b, ']')
}

// okxBook is a books push of s (caller holds the market lock): the
// changed levels of an update, or a snapshot's, and the checksum of the
// book after them (OKX "Order book channel", "Checksum": CRC32 of the
// top 25 bids and asks interleaved, "bid:size:ask:size:…", as a signed
// 32-bit integer, with OKXBooksSnapshot; 0 otherwise, as OKX sends it
// today).
func (v *Venue) okxBook(s *symbolState, action string, ms int64, bids, asks []level, prevSeq int64, seq uint64) []byte {
	b := okxPush(make([]byte, 0, 256+48*(len(bids)+len(asks))), "books", s.instID(), action)
	b = okxLevels(append(b, `"asks":`...), asks)
	b = okxLevels(append(b, `,"bids":`...), bids)
	b = strconv.AppendInt(append(b, `,"ts":"`...), ms, 10)
	var sum int32
	if v.opts.OKXBooks == OKXBooksSnapshot {
		sum = okxChecksum(s)
	}
	b = strconv.AppendInt(append(b, `","checksum":`...), int64(sum), 10)
	b = strconv.AppendInt(append(b, `,"prevSeqId":`...), prevSeq, 10)
	b = strconv.AppendUint(append(b, `,"seqId":`...), seq, 10)
	return okxEnd(b)
}

// okxChecksum is the CRC32 of s's top 25 levels a side (caller holds the
// market lock).
func okxChecksum(s *symbolState) int32 {
	bids, asks := bookLevels(s, true, 25), bookLevels(s, false, 25)
	buf := make([]byte, 0, 50*40)
	for i := range 25 {
		if i < len(bids) {
			buf = append(fmtDec(append(fmtDec(buf, bids[i].price), ':'), bids[i].qty), ':')
		}
		if i < len(asks) {
			buf = append(fmtDec(append(fmtDec(buf, asks[i].price), ':'), asks[i].qty), ':')
		}
	}
	return int32(crc32.ChecksumIEEE(buf[:max(len(buf)-1, 0)]))
}

// okxBBOEvery is bbo-tbt's cadence, in ms ("Order book channel":
// "bbo-tbt: 1 depth level snapshot will be pushed every 10 ms when there
// are changes in the 1 depth level snapshot").
const okxBBOEvery = 10

// okxTickerEvery is the tickers channel's fastest cadence, in ms
// ("Tickers channel": "The fastest rate is 1 update/100ms. There will be
// no update if the event is not triggered. The events which can trigger
// update: trade, the change on best ask/bid").
const okxTickerEvery = 100

// okxBBOTick pushes, at ms, the bbo-tbt of each symbol whose top changed
// since its last push (the generator's goroutine, each okxBBOEvery ms of
// the clock, paused or not).
func (v *Venue) okxBBOTick(ms int64) {
	v.okxPushMoved(ms, "bbo-tbt:", func(s *symbolState) *bool { return &s.okxTopMoved }, okxBBO)
}

// okxTickerTick pushes, at ms, the tickers push of each symbol that
// traded or whose top changed since its last (each okxTickerEvery ms).
func (v *Venue) okxTickerTick(ms int64) {
	v.okxPushMoved(ms, "tickers:", func(s *symbolState) *bool { return &s.okxTickerDue }, okxTicker)
}

// okxPushMoved pushes, at ms, push(s) on channel's stream of each symbol
// whose flag is set, clearing it, while an OKX connection is open.
func (v *Venue) okxPushMoved(ms int64, channel string, flag func(*symbolState) *bool, push func(*symbolState, int64) []byte) {
	m := v.mkt
	var pushes [][]byte
	var streams []string
	m.mu.Lock()
	for _, s := range m.symbols {
		f := flag(s)
		if !*f {
			continue
		}
		*f = false
		if v.okxConns.Load() > 0 {
			if p := push(s, ms); p != nil {
				pushes = append(pushes, p)
				streams = append(streams, channel+s.instID())
			}
		}
	}
	m.mu.Unlock()
	for i, p := range pushes {
		v.broadcast(streams[i:i+1], p)
	}
}

// okxBBO is a bbo-tbt push of s's top (caller holds the market lock).
func okxBBO(s *symbolState, ms int64) []byte {
	b := okxPush(make([]byte, 0, 256), "bbo-tbt", s.instID(), "")
	b = okxLevels(append(b, `"asks":`...), topLevels(s.publicTop(false)))
	b = okxLevels(append(b, `,"bids":`...), topLevels(s.publicTop(true)))
	b = strconv.AppendInt(append(b, `,"ts":"`...), ms, 10)
	b = strconv.AppendUint(append(b, `","seqId":`...), s.updID, 10)
	return okxEnd(b)
}

// topLevels is a side's best level as a list of levels: none when the
// side is empty (a taker's walk took every level), as a book lists no
// level there.
func topLevels(top level) []level {
	if top.qty == 0 {
		return nil
	}
	return []level{top}
}

// okxTrade is a trades push of count trades of s at price, of one taker
// order, the last of them tradeID, for qty in all (OKX v5 "Trades
// channel": "The message is sent only once per taker order, filled
// price, source", tradeId "The last trade ID in the trades aggregation",
// count "The count of trades aggregated", source "Order source, 0:
// normal order, 1: RPI order" — "0", the venue has no RPI orders —, and
// seqId "Sequence ID of the current message", a JSON number as OKX sends
// it): side is the taker's. seqId counts the instrument's trades pushes
// from 1, each the last + 1 (OKX does not say how its seqId runs; its
// captures show it rising). Caller holds the market lock.
func okxTrade(s *symbolState, ms, price, qty int64, buyerMaker bool, tradeID, count uint64) []byte {
	side := "buy"
	if buyerMaker {
		side = "sell"
	}
	id := s.instID()
	b := okxPush(make([]byte, 0, 256), "trades", id, "")
	b = append(append(append(b, `"instId":"`...), id...), `","tradeId":"`...)
	b = strconv.AppendUint(b, tradeID, 10)
	b = fmtDec(append(b, `","px":"`...), price)
	b = fmtDec(append(b, `","sz":"`...), qty)
	b = append(append(append(b, `","side":"`...), side...), `","ts":"`...)
	b = strconv.AppendUint(append(strconv.AppendInt(b, ms, 10), `","count":"`...), count, 10)
	s.okxTradeSeq++
	b = strconv.AppendUint(append(b, `","source":"0","seqId":`...), s.okxTradeSeq, 10)
	return okxEnd(b)
}

// okxTicker is a tickers push of s at ms, its last trade's price and
// size, nil before any trade (caller holds the market lock).
func okxTicker(s *symbolState, ms int64) []byte {
	if s.day.count == 0 {
		return nil
	}
	price, qty, id := s.day.close, s.day.lastQty, s.instID()
	k := s.minute // the minute's candle stands for the day
	bid, ask := s.publicTop(true), s.publicTop(false)
	t := okxPush(make([]byte, 0, 512), "tickers", id, "")
	t = append(append(append(t, `"instType":"SPOT","instId":"`...), id...), '"')
	for _, f := range [...]struct {
		name string
		v    int64
	}{{"last", price}, {"lastSz", qty}, {"askPx", ask.price}, {"askSz", ask.qty}, {"bidPx", bid.price}, {"bidSz", bid.qty},
		{"open24h", k.open}, {"high24h", k.high}, {"low24h", k.low}, {"volCcy24h", k.quoteVol}, {"vol24h", k.volume},
		{"sodUtc0", k.open}, {"sodUtc8", k.open}} {
		t = fmtDec(append(append(append(t, `,"`...), f.name...), `":"`...), f.v)
		t = append(t, '"')
	}
	return okxEnd(append(strconv.AppendInt(append(t, `,"ts":"`...), ms, 10), '"'))
}

// okxNotice is OKX's notice of a service upgrade (v5 "Notification of
// connection being closed for a service upgrade": event notice, code
// 64008, sent about 60 s before the cut).
func (c *conn) okxNotice() []byte {
	return marshal(&struct {
		Event  string `json:"event"`
		Code   string `json:"code"`
		Msg    string `json:"msg"`
		ConnID string `json:"connId"`
	}{"notice", "64008", "The connection will soon be closed for a service upgrade. Please reconnect.", c.okxConnID()})
}

// okxFollowsBooks reports whether sub names an OKX books subscription.
func okxFollowsBooks(sub string) bool { return strings.HasPrefix(sub, "books:") }

// okxBooksPath is OKX's REST order book endpoint (OKX API v5 "Get order
// book").
const okxBooksPath = "/api/v5/market/books"

// okxBooksWindow is the interval of OKX's "Get order book" rate limit
// (40 requests per 2 seconds, Options.OKXBooksLimit).
const okxBooksWindow = 2 * time.Second

// serveOKXBooks answers GET /api/v5/market/books?instId=BTC-USDT&sz=400
// ("Get order book": sz levels a side, default 1, at most 400) with
// {"code":"0","msg":"","data":[{"asks":…,"bids":…,"ts":…,"seqId":…}]},
// consistent with the books channel: seqId is the last update's. An
// instId the venue does not have is code 51001 (HTTP 200, as OKX's
// "Error Code" table gives it). OKX's own rate limit applies (40
// requests per 2 s per IP, Options.OKXBooksLimit), not Binance's weight:
// a refusal is HTTP 429, code 50011.
func (v *Venue) serveOKXBooks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if ok, _ := v.okxBooksLimit.admit(clientIP(r), v.now()); !ok {
		// Past 40 requests in 2 s of the IP's (Options.OKXBooksLimit):
		// HTTP 429, code 50011 ("Error Code", REST: 50011, 429, "Too Many
		// Requests"). OKX names no Retry-After.
		writeOKXTooMany(w)
		return
	}
	q := r.URL.Query()
	sz := parseLimit(q.Get("sz"), 1, 400)
	m := v.mkt
	m.mu.Lock()
	s := v.okxSymbol(q.Get("instId"))
	if s == nil {
		m.mu.Unlock()
		_, _ = w.Write([]byte(`{"code":"51001","msg":"Instrument ID, Instrument ID code or Spread ID doesn't exist.","data":[]}`))
		return
	}
	b := okxLevels(append(make([]byte, 0, 256), `{"code":"0","msg":"","data":[{"asks":`...), bookLevels(s, false, sz))
	b = okxLevels(append(b, `,"bids":`...), bookLevels(s, true, sz))
	b = strconv.AppendInt(append(b, `,"ts":"`...), v.now().UnixMilli(), 10)
	b = strconv.AppendUint(append(b, `","seqId":`...), s.updID, 10)
	m.mu.Unlock()
	_, _ = w.Write(append(b, "}]}"...))
}

// writeOKXTooMany answers a request past an OKX rate limit: HTTP 429, code
// 50011 ("Error Code", REST: 50011, 429, "Too Many Requests"). OKX names
// no Retry-After.
func writeOKXTooMany(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"code":"50011","msg":"Too Many Requests","data":[]}`))
}
