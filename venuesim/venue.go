package venuesim

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/recorder"
)

// Options configure a Venue. A nil *Options gives the defaults.
type Options struct {
	// Symbols are the Binance symbols to simulate, taken in upper case,
	// each once. Defaults to BTCUSDT and ETHUSDT.
	Symbols []string
	// Rate is how many market-data messages per second the venue makes,
	// over all symbols and stream types (Stats.Messages counts them).
	// Defaults to 200. Each message goes to every connection subscribed
	// to a stream it shows on: a trade on trade and aggTrade, a change
	// of the book on bookTicker when it changes the best bid or ask, and
	// in the next batched diff of depth (each 1000 ms of the Clock),
	// depth@100ms and OKX's books (each 100 ms). The kline streams go out on Binance's cadence
	// of the Clock, whatever the rate, and are not counted.
	Rate int
	// Seed seeds the random walk. Defaults to 1.
	Seed uint64
	// PingInterval is how often the server pings each connection, as
	// Binance spot does every 20 s ("WebSocket Streams": "The WebSocket
	// server will send a ping frame every 20 seconds"; USDⓈ-M futures:
	// every 3 minutes). Defaults to 20 s; negative disables pings.
	PingInterval time.Duration
	// PongWait is how long of the Clock the server waits for the pong to
	// its ping before it drops the connection (spot: "If the WebSocket
	// server does not receive a pong frame back from the connection
	// within a 1 minute period, the connection will be disconnected";
	// USDⓈ-M futures: within 10 minutes). Only the pong that echoes the
	// ping counts ("Unsolicited pong frames are allowed, but will not
	// prevent disconnection"). Defaults to 1 minute.
	PongWait time.Duration
	// DepthLevels is how many price levels each book side keeps. Defaults
	// to 50.
	DepthLevels int
	// SendQueue is how many messages may wait for a slow connection; past
	// it the venue drops the connection, as Binance does. Defaults to 16384.
	SendQueue int
	// MaxConnAge cuts every connection, market stream and WS-API, at this
	// age of the Clock, with a normal close, as Binance does ("WebSocket
	// Streams": "A single connection to stream.binance.com is only valid
	// for 24 hours; expect to be disconnected at the 24 hour mark";
	// WebSocket API: "A single connection to the API is only valid for 24
	// hours"). OKX's connections are not cut: OKX documents no such
	// limit. Defaults to 24 h; negative: never.
	MaxConnAge time.Duration
	// OversizedBytes is the size of the frame FaultOversized sends.
	// Defaults to 32 MiB.
	OversizedBytes int
	// APIKey and APISecret, when set, make the WS-API require that apiKey,
	// a valid HMAC-SHA256 signature of the other parameters and a
	// timestamp within recvWindow of the venue's clock (Binance's rule:
	// refused with -1021 otherwise). Left empty, any apiKey, signature and
	// timestamp are accepted.
	APIKey, APISecret string
	// IncomingLimit is how many messages a second a market-stream
	// connection may send, counting as Binance counts them ("WebSocket
	// Limits": 5 incoming messages per second, a message being a PING
	// frame, a PONG frame or a JSON control message such as SUBSCRIBE);
	// the connection that sends more is closed with 1008, as Binance
	// closes it. A client's pongs to the server's pings count too: with a
	// PingInterval under 200 ms set it negative. Defaults to 5; negative:
	// no limit.
	IncomingLimit int
	// EnforceRateLimits makes the WS-API refuse past the limits its
	// answers report (WebSocket API "Rate limits"): a request past
	// REQUEST_WEIGHT (6000 a minute, the request's weight counted) with
	// 429 and -1003, an order.place past ORDERS (50 in 10 s, 160000 a
	// day) with 429 and -1015, each with error.data's serverTime and
	// retryAfter (when the full interval starts again, Unix ms), as
	// [Venue.FailQueries] answers. Defaults to false: reported only.
	EnforceRateLimits bool
	// ConnectLimit is how many market-stream connections one client IP
	// may open per ConnectWindow (Binance "WebSocket Limits": "300
	// connections per attempt every 5 minutes per IP"), and as many
	// WS-API connections, counted apart (WebSocket API "Rate limits",
	// "Connection limits": "300 connections per attempt every 5 minutes.
	// The connection is per IP address."); the handshake of one more is
	// refused with HTTP 429 and a Retry-After of the seconds until the
	// oldest leaves the window (Stats.ConnectRefused; how Binance
	// refuses it is not documented). Refused handshakes are not
	// counted, nor handshakes whose upgrade fails. Defaults to 0: no
	// limit.
	ConnectLimit int
	// ConnectWindow is ConnectLimit's window. Defaults to 5 minutes.
	ConnectWindow time.Duration
	// Balance is the quote-asset value an order may not exceed (a LIMIT
	// order's price × quantity, a LIMIT buy's less what it takes at once
	// below its price; a MARKET order's what its walk takes, each level
	// at its price); larger orders are rejected with
	// INSUFFICIENT_BALANCES.
	// The simulated account also starts with Balance units free of every
	// asset of Symbols, which orders lock and fills move (see
	// [Venue.Balance] and [Venue.Deposit]). Defaults to 1,000,000.
	Balance int64
	// Bans, when set, ban an IP that keeps earning 429s before their
	// retry time, as Binance does (HTTP 418; see [Bans]): its REST
	// requests, WS-API requests and handshakes, streams' and WS-API's,
	// are answered 418 with Retry-After (error.data.retryAfter on the
	// WS-API) until the ban is over, on Clock. Defaults to nil: 429s
	// only, never a ban.
	Bans *Bans
	// OKXBooks is how OKX's books channel starts and what its checksum
	// holds. Defaults to OKXBooksCurrent, as OKX serves it today: no
	// snapshot on the stream, checksum 0 (see [OKXBooks]).
	OKXBooks OKXBooks
	// OKXNoSnapshot is OKXBooks: OKXBooksEmptySnapshot, when OKXBooks is
	// left at its default.
	//
	// Deprecated: set OKXBooks.
	OKXNoSnapshot bool
	// OKXBooksLimit is how many GET /api/v5/market/books requests one
	// client IP may make in 2 s of the Clock (OKX "Get order book": "Rate
	// Limit: 40 requests per 2 seconds", "Rate limit rule: IP"); one more
	// is answered HTTP 429, code 50011 ("Error Code", REST: 50011, 429,
	// "Too Many Requests"), until the oldest leaves the 2 s. Defaults to
	// 40; negative: no limit.
	OKXBooksLimit int
	// OKXRequestLimit is how many subscribe and unsubscribe requests one
	// OKX connection may send in an hour of the Clock (OKX v5
	// "WebSocket", "Connect": "The total number of
	// 'subscribe'/'unsubscribe'/'login' requests per connection is
	// limited to 480 times per hour"); one more is refused, each of its
	// args unserved, with the error event 60014 "Requests too frequent."
	// ("Error Code", WebSocket Public; OKX does not say whether it also
	// cuts the connection: the venue keeps it), until the oldest leaves
	// the hour. Defaults to 480; negative: no limit.
	OKXRequestLimit int
	// OKXConnectLimit is how many connections to /ws/v5/public one client
	// IP may open in a second of the Clock (OKX v5 "WebSocket", "Connect":
	// "Connection limit: 3 requests per second (based on IP)"); one more
	// handshake is refused with HTTP 429 and OKX's rate-limit error,
	// {"code":"50011","msg":"Too Many Requests"} ("Error Code", REST:
	// 50011, 429; how OKX refuses a WebSocket connect past the limit is
	// not documented), counted in Stats.ConnectRefused, until the oldest
	// leaves the second. Defaults to 0, no limit: opt in with 3 (on a
	// Clock that does not move, every dial past the third is refused).
	OKXConnectLimit int
	// Clock is the venue's time source (a wsclient.Clock is one): every
	// time-based behaviour reads and waits on it — the market generator's
	// rate and event times, server pings (PingInterval) and the wait
	// for the pong (PongWait), MaxConnAge, IncomingLimit's second, ConnectLimit's
	// window, the WS-API's rate-limit intervals, recvWindow and every
	// serverTime. A test that moves a fake Clock meets each limit without
	// waiting for it. Defaults to the system clock.
	Clock recorder.Clock
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	// Symbols in Binance's spelling (upper case), each once: a symbol
	// named twice is one market, not two on the same streams.
	var syms []string
	for _, s := range c.Symbols {
		if s = strings.ToUpper(s); s != "" && !slices.Contains(syms, s) {
			syms = append(syms, s)
		}
	}
	c.Symbols = syms
	if len(c.Symbols) == 0 {
		c.Symbols = []string{"BTCUSDT", "ETHUSDT"}
	}
	if c.MaxConnAge == 0 {
		c.MaxConnAge = 24 * time.Hour
	}
	if c.Rate <= 0 {
		c.Rate = 200
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.PingInterval == 0 {
		c.PingInterval = 20 * time.Second
	}
	if c.PongWait <= 0 {
		c.PongWait = time.Minute
	}
	if c.DepthLevels <= 0 {
		c.DepthLevels = 50
	}
	if c.IncomingLimit == 0 {
		c.IncomingLimit = 5
	}
	if c.ConnectWindow <= 0 {
		c.ConnectWindow = 5 * time.Minute
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 16384
	}
	if c.OversizedBytes <= 0 {
		c.OversizedBytes = 32 << 20
	}
	if c.Balance <= 0 {
		c.Balance = 1_000_000
	}
	if c.Clock == nil {
		c.Clock = recorder.SystemClock()
	}
	if c.OKXBooksLimit == 0 {
		c.OKXBooksLimit = 40
	}
	if c.OKXRequestLimit == 0 {
		c.OKXRequestLimit = okxRequestsAnHour
	}
	if c.OKXBooks == OKXBooksCurrent && c.OKXNoSnapshot {
		c.OKXBooks = OKXBooksEmptySnapshot
	}
	return c
}

// Stats counts what the venue did.
type Stats struct {
	Connections uint64 // connections accepted, market and WS-API
	Active      int64  // connections open now
	Messages    uint64 // market-data messages made (Options.Rate a second)
	Sent        uint64 // messages queued to connections (one per subscriber)
	SlowDropped uint64 // connections dropped for falling SendQueue behind
	// TooManyMessages counts market-stream connections cut for sending
	// more than IncomingLimit messages a second.
	TooManyMessages uint64
	// ConnectRefused counts market-stream handshakes refused with 429
	// for ConnectLimit, and OKX's for OKXConnectLimit.
	ConnectRefused uint64
	Orders         uint64 // order.place requests accepted
	Rejected       uint64 // order requests answered with an error
	ExecReports    uint64 // executionReport events sent
	// AccountUpdates counts outboundAccountPosition and balanceUpdate
	// events sent.
	AccountUpdates uint64
	FaultsServed   uint64 // faults injected into a connection
	// Queries counts the order.status, myTrades and openOrders.status
	// requests answered (refusals included).
	Queries uint64
	// Banned counts requests and handshakes answered 418 for an IP ban
	// (Options.Bans).
	Banned uint64
}

// Venue is a running simulated venue. Build it with Start.
type Venue struct {
	opts   Options
	srv    *httptest.Server
	mkt    *market
	clock  recorder.Clock
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts every goroutine the venue started, the connections'
	// handlers included; goMu orders its Adds before Close's Wait
	// (closing refuses new ones).
	wg      sync.WaitGroup
	goMu    sync.Mutex
	closing bool

	mu    sync.Mutex
	conns map[*conn]struct{}
	cw    wire // combined-stream wrappers, under mu

	gen wire // the market generator's payloads: its goroutine only
	// fills is the WS-API fills' prints' wire, under the market lock.
	fills wire
	// klinePushes are a kline tick's candles to send: the generator's
	// goroutine only, reused.
	klinePushes []klinePush
	// arrayBufs are the all-market arrays of a tick: the generator's
	// goroutine only, reused.
	arrayBufs [len(allMarketStreams)][]byte
	// tickerBuf and tickerPushes are a tick's symbol tickers: the
	// generator's goroutine only, reused.
	tickerBuf    []byte
	tickerPushes []klinePush
	// depthPushes, depthBids and depthAsks are a tick's batched depth
	// diffs: the generator's goroutine only, reused.
	depthPushes          []depthPush
	depthBids, depthAsks []level

	paused        atomic.Bool
	stepping      sync.Mutex // held by the generator for each message it makes
	nextOrder     atomic.Uint64
	cancels       atomic.Uint64 // order.cancel requests without a newClientOrderId
	tooMany       atomic.Uint64 // connections cut for too many incoming messages
	connSeq       atomic.Uint64
	connsTotal    atomic.Uint64
	active        atomic.Int64
	messages      atomic.Uint64
	sent          atomic.Uint64
	slow          atomic.Uint64
	orders        atomic.Uint64
	rejected      atomic.Uint64
	execs         atomic.Uint64
	faults        atomic.Uint64
	acct          *account // under mkt.mu
	accountEvents atomic.Uint64
	maxAge        atomic.Int64
	uds           userDataLog
	hist          map[uint64]*order // every accepted order, by id, for the queries (under mkt.mu)
	queryFails    atomic.Int64      // queries still to refuse with -1003 (FailQueries)
	queries       atomic.Uint64
	dropPlace     atomic.Bool // DropNextPlace
	rates         rateCounters
	connLimit     connLimiter // the market streams'
	apiConnLimit  connLimiter // the WS-API's, counted apart
	okxBooksLimit connLimiter // OKX's GET /api/v5/market/books, per IP
	okxConnLimit  connLimiter // OKX's connects, per IP (Options.OKXConnectLimit)
	connRefused   atomic.Uint64
	bans          *ipBans // Options.Bans; nil: none
	banned        atomic.Uint64
	okxConns      atomic.Int64 // open OKX connections: the generator formats OKX pushes only then
}

type connKey struct{}

// Start starts a venue on a loopback port and its market generator.
func Start(opts *Options) *Venue {
	o := opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	v := &Venue{
		opts:   o,
		mkt:    newMarket(o.Symbols, o.DepthLevels, o.Seed),
		clock:  o.Clock,
		ctx:    ctx,
		cancel: cancel,
		conns:  map[*conn]struct{}{},
	}
	v.acct = newAccount(v.mkt, o.Balance)
	for _, s := range v.mkt.symbols {
		s.okxBookAt = v.now().UnixMilli() // the book is new: OKX's keep-alive counts from now
	}
	v.connLimit = connLimiter{limit: o.ConnectLimit, window: o.ConnectWindow}
	v.apiConnLimit = connLimiter{limit: o.ConnectLimit, window: o.ConnectWindow}
	v.okxBooksLimit = connLimiter{limit: o.OKXBooksLimit, window: okxBooksWindow}
	v.okxConnLimit = connLimiter{limit: o.OKXConnectLimit, window: time.Second}
	v.maxAge.Store(int64(o.MaxConnAge))
	v.bans = newIPBans(o.Bans)
	v.nextOrder.Store(4293153)
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", v.serveStream)
	mux.HandleFunc("/ws/", v.serveStream)
	mux.HandleFunc("/stream", v.serveStream)
	mux.HandleFunc("/ws-api/v3", v.serveAPI)
	mux.HandleFunc("/ws/v5/public", v.serveOKX)
	mux.HandleFunc(okxBooksPath, v.serveOKXBooks)
	mux.HandleFunc("/api/v3/depth", v.serveDepth)
	mux.HandleFunc("/api/v3/exchangeInfo", v.serveExchangeInfo)
	mux.HandleFunc("/api/v3/time", v.serveTime)
	v.srv = httptest.NewUnstartedServer(mux)
	v.srv.Listener = &faultListener{Listener: v.srv.Listener}
	v.srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}
	v.srv.Start()
	v.wg.Add(1)
	go v.generate()
	return v
}

// Close stops the generator, closes every connection and the server, and
// waits for every goroutine the venue started, each connection's own
// included.
func (v *Venue) Close() {
	v.goMu.Lock()
	v.closing = true
	v.goMu.Unlock()
	v.cancel()
	v.mu.Lock()
	for c := range v.conns {
		c.kill()
	}
	v.mu.Unlock()
	v.srv.CloseClientConnections()
	v.srv.Close()
	v.wg.Wait()
}

// now is the venue's time (Options.Clock).
func (v *Venue) now() time.Time { return v.clock.Now() }

// enter counts a goroutine of the venue's (Done when it ends), unless
// Close has begun: a WaitGroup's Add must not race its Wait.
func (v *Venue) enter() bool {
	v.goMu.Lock()
	defer v.goMu.Unlock()
	if v.closing {
		return false
	}
	v.wg.Add(1)
	return true
}

// spawn runs f on a goroutine of the venue's, or not at all once Close
// has begun (it reports which).
func (v *Venue) spawn(f func()) bool {
	if !v.enter() {
		return false
	}
	go func() {
		defer v.wg.Done()
		f()
	}()
	return true
}

// URL is the WebSocket base URL, ws://127.0.0.1:port.
func (v *Venue) URL() string { return "ws" + strings.TrimPrefix(v.srv.URL, "http") }

// RESTURL is the HTTP base URL for /api/v3/depth and /api/v3/exchangeInfo.
func (v *Venue) RESTURL() string { return v.srv.URL }

// StreamURL is the URL of a raw stream (one name: /ws/<stream>) or of a
// combined stream (several: /stream?streams=a/b). With no name it is /ws,
// to which SUBSCRIBE requests add streams.
func (v *Venue) StreamURL(streams ...string) string {
	switch len(streams) {
	case 0:
		return v.URL() + "/ws"
	case 1:
		return v.URL() + "/ws/" + streams[0]
	}
	return v.URL() + "/stream?streams=" + strings.Join(streams, "/")
}

// CombinedURL is /stream with no stream yet: SUBSCRIBE adds them, and every
// payload comes wrapped as {"stream":...,"data":...}.
func (v *Venue) CombinedURL() string { return v.URL() + "/stream" }

// APIURL is the WS-API endpoint for orders and the user-data stream.
func (v *Venue) APIURL() string { return v.URL() + "/ws-api/v3" }

// Symbols returns the simulated symbols.
func (v *Venue) Symbols() []string { return append([]string(nil), v.opts.Symbols...) }

// Stats returns the venue's counters.
func (v *Venue) Stats() Stats {
	return Stats{
		Connections: v.connsTotal.Load(), Active: v.active.Load(), Messages: v.messages.Load(),
		Sent: v.sent.Load(), SlowDropped: v.slow.Load(), TooManyMessages: v.tooMany.Load(), ConnectRefused: v.connRefused.Load(), Orders: v.orders.Load(),
		Rejected: v.rejected.Load(), ExecReports: v.execs.Load(), FaultsServed: v.faults.Load(),
		AccountUpdates: v.accountEvents.Load(), Queries: v.queries.Load(), Banned: v.banned.Load(),
	}
}

// SetMaxConnAge changes the age at which connections are cut (0 or
// negative: never),
// for connections opened from now on and those open now.
func (v *Venue) SetMaxConnAge(d time.Duration) {
	v.maxAge.Store(int64(d))
	v.mu.Lock()
	for c := range v.conns {
		c.armAge(d)
	}
	v.mu.Unlock()
}

// Pause stops (true) or resumes (false) the market generator, so a test can
// hold the book still while it takes a snapshot. Pause(true) returns once
// the message being made, if any, is queued to its connections: nothing is
// made after it (the generator makes up to 100 ms of messages at once, and
// the rest of such a burst once moved the book past a snapshot taken right
// after Pause). The streams Binance pushes on a cadence go on on theirs:
// the klines with no trade, the partial books still, the all-market
// arrays (nothing traded: nothing sent).
func (v *Venue) Pause(p bool) {
	v.stepping.Lock() // waits for the message under way
	defer v.stepping.Unlock()
	v.paused.Store(p)
}

// generate makes market data at the configured rate until Close. It runs
// open loop: each millisecond it makes the messages due by then, at most
// 100 ms of them at once.
func (v *Venue) generate() {
	defer v.wg.Done()
	// Each millisecond of the venue's clock: a ticker on the system
	// clock, Options.Clock's Sleep on another.
	var wait func() bool
	if v.clock == recorder.SystemClock() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		wait = func() bool {
			select {
			case <-v.ctx.Done():
				return false
			case <-tick.C:
				return true
			}
		}
	} else {
		wait = func() bool { return v.clock.Sleep(v.ctx, time.Millisecond) == nil }
	}
	begin := v.now()
	prev := begin
	var made int64
	buf := make([]byte, 0, 4096)
	at := begin.UnixMilli()
	klines1s, klines := newCadence(klineEvery1s, at), newCadence(klineEvery, at)
	depth100ms := newCadence(partialEvery100ms, at)
	okxBBOs := newCadence(okxBBOEvery, at)
	okxTickers := newCadence(okxTickerEvery, at)
	for wait() {
		// The clock is read here, not taken from the tick: a tick
		// carries the time it was due, which on a loaded machine can
		// precede begin (a negative count that, made unsigned, once
		// stopped the generator for good).
		now := v.now()
		// The candles, partial books and all-market arrays go out on
		// Binance's cadence, paused or not (the market holds still; the
		// clock does not), before this millisecond's trades: a candle
		// whose interval is over closes before a trade of the next one.
		ms := now.UnixMilli()
		oneSec, other, fast := klines1s.due(ms), klines.due(ms), depth100ms.due(ms)
		if oneSec || other {
			buf = v.klineTick(buf[:0], ms, oneSec, other)
		}
		if oneSec || fast {
			v.partialTick(oneSec, fast)
			v.depthTick(ms, oneSec, fast)
		}
		// After the books' batch: the keep-alive's seqId is the last
		// pushed, and a batch just pushed restarts its count.
		if v.okxConns.Load() > 0 {
			v.okxKeepAlive(now)
		}
		if oneSec {
			v.tickerArrays(ms)
		}
		if okxBBOs.due(ms) {
			v.okxBBOTick(ms)
		}
		if okxTickers.due(ms) {
			v.okxTickerTick(ms)
		}
		if v.paused.Load() {
			begin, made = now, 0
			continue
		}
		// A clock stepped back (Options.Clock without a monotonic
		// reading) starts the count again from now: reckoned from the
		// begin it is now behind, nothing would be due until the clock
		// regained the step.
		if now.Before(prev) {
			begin, made = now, 0
		}
		prev = now
		due := messagesDue(now.Sub(begin), v.opts.Rate)
		// A machine too busy to keep the rate does not owe the backlog:
		// at most 100 ms of messages are made at once, and Close is
		// heard between any two.
		made = max(made, due-max(int64(v.opts.Rate)/10, 1))
		for ; made < due; made++ {
			if v.ctx.Err() != nil {
				return
			}
			v.stepping.Lock()
			if v.paused.Load() {
				v.stepping.Unlock()
				break
			}
			buf = v.step(buf[:0], now)
			v.stepping.Unlock()
		}
	}
}

// messagesDue is how many messages a venue making rate per second owes
// after elapsed: never negative, exact in integers.
func messagesDue(elapsed time.Duration, rate int) int64 {
	if elapsed <= 0 {
		return 0
	}
	s, ns := int64(elapsed/time.Second), int64(elapsed%time.Second)
	return s*int64(rate) + ns*int64(rate)/int64(time.Second)
}

// step makes one market-data message on a random symbol and stream type and
// sends it to the subscribers of its stream.
func (v *Venue) step(buf []byte, now time.Time) []byte {
	v.messages.Add(1)
	m := v.mkt
	ms := now.UnixMilli()
	m.mu.Lock()
	s := m.symbols[m.rng.IntN(len(m.symbols))]
	kind := m.rng.IntN(18) // klines go out on their own cadence (klineTick)
	if kind < 6 {
		// A trade, seen as trade and as aggTrade; a book with nothing
		// to trade against changes instead.
		if price, qty, bm, ok := m.trade(s, ms); ok {
			s.aggID++
			p := v.tradePrints(&v.gen, buf, s, ms, price, qty, bm, s.tradeID)
			m.mu.Unlock()
			v.sendPrints(&p)
			v.fillResting(s)
			return p.trade
		}
	}
	// A change of the book (kind < 10: of its top), and a bookTicker
	// when the top changed: Binance pushes one only then ("Individual
	// Symbol Book Ticker Streams": "Pushes any update to the best bid or
	// ask's price or quantity"; a bookTicker with nothing changed once
	// made 4 in 18 messages repeats).
	gap := s.gap
	s.gap = false
	was := s.top()
	bids, asks, first, _ := m.moveBook(s, gap, kind < 10)
	// The diff goes out with the others of its interval (depthTick).
	s.noteDepth(bids, asks, first, gap)
	// Our resting orders the book moved through fill now, before the
	// top is read: the bookTicker never names a crossed top.
	v.fillCrossed(s, ms)
	var top []byte
	if s.top() != was {
		top = v.gen.appendBookTicker(nil, s)
	}
	// bbo-tbt goes out on its 10 ms cadence, when the top changed
	// (okxBBOTick).
	s.okxTopMoved = s.okxTopMoved || top != nil
	s.okxTickerDue = s.okxTickerDue || top != nil
	// The depth changed: OKX's keep-alive counts from here, OKX
	// connections open or not (a count left at the last OKX push
	// sent a subscriber that came later a keep-alive at once).
	s.okxBookAt = ms
	m.mu.Unlock()
	if top != nil {
		v.broadcast([]string{s.lower + "@bookTicker"}, top)
	}
	return buf
}

// broadcast queues payload to every connection subscribed to one of the
// stream names (the first that matches names the combined wrapper).
func (v *Venue) broadcast(streams []string, payload []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var raw []byte
	var names [2]string // broadcasts name one or two streams
	for c := range v.conns {
		for _, name := range c.subscribed(names[:0], streams) {
			var msg []byte
			if c.combined.Load() {
				msg = v.cw.appendCombined(make([]byte, 0, len(payload)+len(name)+24), name, payload)
			} else {
				if raw == nil {
					raw = append([]byte(nil), payload...)
				}
				msg = raw
			}
			c.send(msg)
		}
	}
}

func parseLimit(s string, def, most int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return def
	}
	return min(n, most)
}

// serveDepth answers GET /api/v3/depth?symbol=BTCUSDT&limit=100 with a
// snapshot consistent with the diff stream.
func (v *Venue) serveDepth(w http.ResponseWriter, r *http.Request) {
	limit := parseLimit(r.URL.Query().Get("limit"), 100, 5000)
	if !v.admitREST(w, r, restWeight(r.URL.Path, limit)) {
		return
	}
	sym := strings.ToUpper(r.URL.Query().Get("symbol"))
	m := v.mkt
	m.mu.Lock()
	s, ok := m.byName[sym]
	var body []byte
	if ok {
		body = new(wire).appendDepthSnapshot(nil, s, limit)
	}
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		code, msg := -1121, "Invalid symbol."
		if sym == "" {
			code, msg = -1102, mandatory("symbol")
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(marshal(&struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		}{code, msg}))
		return
	}
	_, _ = w.Write(body)
}

// serveExchangeInfo answers GET /api/v3/exchangeInfo with the symbols list
// and each symbol's filters.
func (v *Venue) serveExchangeInfo(w http.ResponseWriter, r *http.Request) {
	if !v.admitREST(w, r, restWeight(r.URL.Path, 0)) {
		return
	}
	// Binance spot "Exchange information": the limits the WS-API reports
	// (ratelimits.go), and per symbol what the simulator serves.
	type symbol struct {
		Symbol               string   `json:"symbol"`
		Status               string   `json:"status"`
		BaseAsset            string   `json:"baseAsset"`
		BaseAssetPrecision   int      `json:"baseAssetPrecision"`
		QuoteAsset           string   `json:"quoteAsset"`
		QuotePrecision       int      `json:"quotePrecision"`
		QuoteAssetPrecision  int      `json:"quoteAssetPrecision"`
		OrderTypes           []string `json:"orderTypes"`
		IsSpotTradingAllowed bool     `json:"isSpotTradingAllowed"`
		Filters              []filter `json:"filters"`
		DefaultSTP           string   `json:"defaultSelfTradePreventionMode"`
		AllowedSTP           []string `json:"allowedSelfTradePreventionModes"`
	}
	type rateLimit struct {
		Type        string `json:"rateLimitType"`
		Interval    string `json:"interval"`
		IntervalNum int    `json:"intervalNum"`
		Limit       int    `json:"limit"`
	}
	info := struct {
		Timezone        string      `json:"timezone"`
		ServerTime      int64       `json:"serverTime"`
		RateLimits      []rateLimit `json:"rateLimits"`
		ExchangeFilters []filter    `json:"exchangeFilters"`
		Symbols         []symbol    `json:"symbols"`
	}{Timezone: "UTC", ServerTime: v.now().UnixMilli(), ExchangeFilters: []filter{}, RateLimits: []rateLimit{
		{"REQUEST_WEIGHT", "MINUTE", 1, weightLimit}, {"ORDERS", "SECOND", 10, orders10sCap},
		{"ORDERS", "DAY", 1, ordersDayCap}, {"RAW_REQUESTS", "MINUTE", 5, 61000},
	}}
	for _, s := range v.mkt.symbols {
		info.Symbols = append(info.Symbols, symbol{s.name, "TRADING", s.base, priceScale, s.quote, priceScale, priceScale,
			[]string{"LIMIT", "LIMIT_MAKER", "MARKET"}, true, filters(s), defaultSTP, allowedSTP})
	}
	b := marshal(&info)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
