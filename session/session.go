package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Endpoints are a venue's three addresses. Nothing defaults to production:
// pass [BinanceLive], [BinanceTestnet] or a simulated venue's URLs.
type Endpoints struct {
	Stream string // combined market streams: wss://stream.binance.com:9443/stream
	REST   string // REST base: https://api.binance.com
	API    string // WS-API, for orders and user data: wss://ws-api.binance.com:443/ws-api/v3
	// Trade is Bybit's trade WebSocket, where its orders go
	// (wss://stream.bybit.com/v5/trade; testnet
	// wss://stream-testnet.bybit.com/v5/trade). Other venues: unused.
	Trade string
}

// Binance spot's endpoints (Binance spot API docs, "General API
// Information"; the testnet's from "Spot Test Network").
var (
	BinanceLive = Endpoints{
		Stream: "wss://stream.binance.com:9443/stream",
		REST:   "https://api.binance.com",
		API:    "wss://ws-api.binance.com:443/ws-api/v3",
	}
	BinanceTestnet = Endpoints{
		Stream: "wss://stream.testnet.binance.vision/stream",
		REST:   "https://testnet.binance.vision",
		API:    "wss://ws-api.testnet.binance.vision/ws-api/v3",
	}
)

// BinanceMaxStreamsPerConn is Binance's limit of streams per connection
// (spot "WebSocket Streams", "WebSocket Limits": 1024).
const BinanceMaxStreamsPerConn = 1024

// Defaults of [Config].
const (
	DefaultRecvWindow = 5 * time.Second
	// MaxRecvWindow is the longest recvWindow Binance takes (WS-API
	// "Timing security": 60000 ms).
	MaxRecvWindow = 60 * time.Second
	// DefaultRESTTimeout bounds each REST call of the session by default
	// (see Config.RESTTimeout).
	DefaultRESTTimeout = 10 * time.Second
	// DefaultOrderAnswerTimeout bounds the wait for the venue's answer to
	// an order request (see Config.OrderAnswerTimeout).
	DefaultOrderAnswerTimeout = 30 * time.Second
)

// Config says what a [Session] connects to. Start copies it.
type Config struct {
	// Venue is the venue: Binance (the default; market data, books,
	// orders and user data), or Kraken (v2), OKX (v5), Bybit (v5) or
	// Coinbase (Advanced Trade): market data, books and, with Key, their
	// private channels' execution reports and account updates, and order
	// calls on OKX and Bybit (see the package doc, "Orders by venue").
	Venue schema.Venue
	// Endpoints are required: there is no default venue address. Binance
	// needs Stream and REST (and API with credentials); the other venues
	// Stream, their public market-data endpoint, API with Key (their
	// private WebSocket), and REST for instrument rules (loaded when set;
	// Kraken's Key needs it for its token; OKX's, Bybit's and
	// Coinbase's reconciliation of execution reports too; OKX's books
	// need it for their snapshots, which OKX no longer streams).
	Endpoints Endpoints
	// Symbols are canonical symbols ("BTC-USDT"); Binance's are checked
	// against its instrument list.
	Symbols []string
	// Channels are the venue's channels, subscribed for every symbol.
	// Binance: "trade", "aggTrade", "bookTicker", "depth@100ms",
	// "kline_1m", …, where a diff-depth channel ("depth", "depth@100ms")
	// keeps an L2 book per symbol (see [Session.Book]). OKX: "trades",
	// "tickers", "books" (a book). Bybit: "publicTrade", "tickers",
	// "orderbook.50" (a book; 1, 50, 200, 500, 1000). Coinbase:
	// "market_trades", "ticker", "level2" (a book). Kraken v2: "trade",
	// "ticker", "book" (no local book: its checksum needs the pairs'
	// precisions).
	Channels []string
	// MaxTopicsPerConn is the streams (symbol × channel) per market
	// connection; more are spread over several connections, a symbol's
	// streams together. Defaults to BinanceMaxStreamsPerConn (1024, also
	// for the other venues).
	MaxTopicsPerConn int
	// Credentials, when set, open the order connection (the WS-API): Place
	// and Cancel work, and the user-data stream brings execution reports.
	// Defaults to nil: market data only.
	Credentials *normalize.Credentials
	// Key, for OKX, Bybit, Kraken and Coinbase, opens the venue's private
	// WebSocket (Endpoints.API; Kraken needs Endpoints.REST too, for its
	// token): a login made anew with the venue's time on every connection,
	// then the private channels, whose execution reports and account
	// updates reach OnExecReport, OnAccount and the subscribers as
	// Binance's do (see [Key]). Place and Cancel work on OKX (on the
	// private WebSocket) and on Bybit (with Endpoints.Trade, its trade
	// WebSocket); on Kraken and Coinbase they return ErrNoCredentials.
	// On OKX, Bybit and Coinbase with Endpoints.REST, the execution
	// reports the private channels missed while down are reconciled from
	// the venue's REST queries, signed with the same key (see the package
	// doc).
	// Defaults to nil.
	Key Key
	// RecvWindow is sent with every signed request, in whole
	// milliseconds (Binance refuses a request older than it, by the
	// venue's clock). From 1 ms to MaxRecvWindow; Start refuses others
	// with ErrConfig. Defaults to DefaultRecvWindow (5 s, Binance's own
	// default).
	RecvWindow time.Duration
	// OrderAnswerTimeout bounds, on Config.Client.Clock, the wait for the
	// venue's answer to an order request once written (Place, Cancel,
	// Amend): unanswered that long on a connection that stays up (an
	// answer lost, a venue stuck), the call returns an error wrapping
	// ErrNoAnswer — the outcome unknown, the placement looked up by its
	// client order id in the next reconciliation pass, a late answer
	// still published and followed — counted in OrderStats.TimedOut, and
	// the connection replaced make-before-break (see the package doc). The
	// caller's ctx bounds the call too. Defaults to
	// DefaultOrderAnswerTimeout (30 s: past the venues' own backend
	// timeouts, Binance -1007 "Timeout waiting for response from backend
	// server"); negative: ctx alone.
	OrderAnswerTimeout time.Duration
	// RESTTimeout bounds, on Config.Client.Clock, each REST call of the
	// session, from the request to the answer's last byte: the instrument
	// list and the server time at Start, Kraken's WebSocket token on each
	// private connection, the reconciliation's order queries (and
	// Binance's, made on the WS-API), the books' REST snapshots (Binance
	// depth, OKX books: book.BinanceREST and book.OKXREST Timeout, on
	// the wall clock too, see normalize/book "Time"). A call unanswered that long ends
	// with an error wrapping ErrRESTTimeout (and so
	// context.DeadlineExceeded): Start fails with it; a token or a
	// reconciliation pass is tried again later, as after a refusal. The
	// caller's ctx bounds the call too. An instrument list is the largest
	// answer: thousands of instruments (Binance spot, OKX or Bybit
	// options) over a slow link may need more than the default. Defaults
	// to DefaultRESTTimeout (10 s); negative: Start refuses it with
	// ErrConfig.
	RESTTimeout time.Duration
	// Now is the local clock that signed timestamps are read from, before
	// the venue's offset is added. Defaults to time.Now.
	Now func() time.Time
	// NoClockSync keeps the offset at 0: timestamps are the local clock's.
	// Otherwise, with Credentials or Key and Endpoints.REST, the offset is
	// measured at Start and before every (re)login, against the venue's
	// server time (Binance /api/v3/time, OKX /api/v5/public/time, Bybit
	// /v5/market/time, Kraken /0/public/Time, Coinbase
	// /api/v3/brokerage/time).
	// By default the offset to the venue's clock (GET /api/v3/time; the
	// offset moves only as far as the round trip demands) is measured at
	// Start and before every user-data subscription.
	NoClockSync bool
	// Client is the template of every connection (liveness, backoff,
	// rotation, clock, HTTP client, logger); Start sets its Venue, Frames,
	// Topics, EncodeSubscribe, MaxTopicsPerConn and OnEvent (and, on the
	// order and private connections, OnReplacedEnd), on the market
	// connections PaceWrites (the books' resubscriptions share the
	// connection's pacer) and, when nil, IsData (the venue's: a
	// rotation delivers the new connection's answers by it). A
	// ControlRate of 0 paces the market connections at the venue's
	// documented rate: on Coinbase 7 per second (its limit is 8 messages
	// per second per IP, Advanced Trade "WebSocket Rate Limits"), on the
	// other venues wsclient.DefaultControlRate. Where the venue limits
	// messages per IP (Coinbase), a nil MessageLimit is one of that rate
	// (7 per second) shared by the session's market connections, a
	// rotation's new one too; a host running several sessions on one IP
	// gives them one MessageLimit (wsclient.NewMessageLimit) instead.
	// Rand, when set, is called by every connection and by the session's
	// own backoffs (the private side's, the market refusals' jitter), one
	// call at a time: the session serialises it.
	Client wsclient.Options
	// HTTPClient makes the REST calls (instruments, server time, book
	// snapshots). Defaults to http.DefaultClient.
	HTTPClient *http.Client
	// BookMaxSilence is every book's book.Options.MaxSilence, timed on
	// Client.Clock: a live book whose stream applied nothing — no
	// snapshot, diff or keep-alive — for that long while its connection
	// lives (a subscription the venue dropped, a halted instrument)
	// reports not live ([Session.Book]'s Live, BBO and Top, which keep
	// its last state and times), publishes once a gap marker with
	// book.ReasonSilent and withdraws its best bid/offer
	// (book.Stats.Silences); its stream's next message makes it live
	// again. WaitConnected waits for a silent book as for any book not
	// live. Set it above the quietest normal interval of the symbols'
	// markets (Binance and Bybit send only changes; OKX a keep-alive a
	// minute on a quiet book; Coinbase's level2 stops for good after
	// 60–90 s without an update unless the connection subscribes to
	// heartbeats, "WebSocket Channels"). Defaults to 0: never (judge
	// book.Book.Updated yourself); negative: ErrConfig.
	BookMaxSilence time.Duration
	// OnState sees every connection event of every connection after the
	// session has acted on it, on that connection's event goroutine. A
	// panic in it is recovered, counted (Stats.OnStatePanics) and logged
	// at Error. It must not call runtime.Goexit (t.FailNow in a test):
	// that ends the event goroutine, and with it the session's following
	// of that connection (counted and logged too). Defaults to nil.
	OnState func(Conn, wsclient.Event)
	// Subscribe, when set, is called with the dispatcher before any
	// connection starts: subscriptions made there miss nothing, not even
	// the first messages of the first connection (Start connects at once,
	// so subscriptions made after it returns may). An error aborts Start.
	// Defaults to nil.
	Subscribe func(*dispatch.Dispatcher) error
	// OnExecReport, when set, receives every execution report (of every
	// venue connection that sends them: Binance spot executionReport and
	// USDⓈ-M ORDER_TRADE_UPDATE, the private channels of OKX, Bybit,
	// Kraken and Coinbase; and, with Execution.Reconciled set, the
	// Binance, OKX, Bybit, Kraken and Coinbase fills and ends the stream
	// missed while it was down, see the package doc) as a pooled
	// *schema.ExecReport, in order,
	// on a goroutine of its own (a dispatcher subscription's critical
	// lane: none is dropped). The report is the handler's: it must Put it
	// to Pools().Execs when done with it, and must not keep a reference
	// after; Close's leak check names the ones never returned. It may hold
	// at most schema.CapExecReport (20) at once: past that, the next report
	// waits (none is dropped; Logger says so) until one is Put back. A
	// panic in it is recovered and counted like any subscriber's (see
	// package dispatch); the report it was given stays the handler's, as
	// the session cannot know whether it was Put or handed on: a handler
	// that panics must Put it in its own recover. The reports also reach
	// every subscriber as schema.EventExecReport events. Defaults to nil.
	OnExecReport func(*schema.ExecReport)
	// OnAccount, when set, receives every account update: the
	// schema.EventBalance and schema.EventPosition events of every venue
	// connection that sends them (Binance spot outboundAccountPosition,
	// balanceUpdate and externalLockUpdate; USDⓈ-M ACCOUNT_UPDATE and
	// MARGIN_CALL), in the venue's order, on a goroutine of its own (a
	// dispatcher subscription's critical lane: none is dropped). A venue
	// message that changes several assets arrives as several events, the
	// last with Index = Count − 1. The event is the dispatcher's heap
	// clone: the handler's to keep, never to Put. Defaults to nil.
	OnAccount func(*schema.CanonicalEvent)
	// MaxTrackedOrders bounds the open orders the session follows to
	// reconcile them after a reconnect (its own, and those the stream of
	// execution reports or the venue's open orders show; Binance, OKX,
	// Bybit and Coinbase); past it an order is not followed, counted in
	// OrderStats.TrackOverflow and logged. Defaults to
	// DefaultMaxTrackedOrders (10000).
	MaxTrackedOrders int
	// ReconcileWeight is the budget per minute reconciliation may spend
	// on its queries, which wait for it. Binance: request weight
	// (order.status 4, myTrades 20, openOrders.status 80), by default
	// DefaultReconcileWeight (1200, a fifth of the venue's 6000 per
	// minute per IP). OKX and Bybit: REST requests (a Bybit order lookup
	// counts 2), by default DefaultReconcileOKX (360, a fifth of OKX's 60
	// per 2 s per query) and DefaultReconcileBybit (600, a fifth of
	// Bybit's 50 per second per query). Coinbase: REST requests, by
	// default DefaultReconcileCoinbase (360, a fifth of Advanced Trade's
	// 30 private requests per second per user). Kraken: private REST
	// calls (QueryTrades and TradesHistory count 2, a lookup by
	// cl_ord_id 2), by default DefaultReconcileKraken (4, a fifth of the
	// Starter tier's 20 a minute).
	ReconcileWeight int
	// Pools are the pools everything is taken from. Defaults to
	// schema.NewPools(nil); Close shuts them down either way.
	Pools *schema.Pools
	// Dispatch tunes the dispatcher. Defaults to nil.
	Dispatch *dispatch.Options
	// Logger is given to the connections, parsers, books and dispatcher
	// that have none. Defaults to nil: silent.
	Logger *slog.Logger
}

// Conn names one of a session's connections.
type Conn struct {
	Role  Role
	Shard int // market connections: from 0
}

// Role is what a connection carries.
type Role uint8

// Roles.
const (
	RoleMarket Role = iota // market streams
	RoleOrders             // the WS-API: orders and the user-data stream
	RoleTrade              // Bybit's trade connection: orders only
)

func (c Conn) String() string {
	if c.Role == RoleOrders {
		return "orders"
	}
	if c.Role == RoleTrade {
		return "trade"
	}
	return fmt.Sprintf("market %d", c.Shard+1)
}

// Session is one venue's connections composed: market streams sharded
// over wsclient connections, normalized by a normalize parser each, books
// kept by normalize/book, fanned out by one dispatch.Dispatcher; and, with
// credentials, the WS-API connection that places and cancels orders and
// brings the user-data stream. Build it with [Start]; it is safe for
// concurrent use; Close it.
type Session struct {
	cfg   Config
	spec  *venueSpec
	pools *schema.Pools
	disp  *dispatch.Dispatcher
	syms  *normalize.Symbols
	state *stateBoard

	shards []*shard
	books  []*book.Book
	orders *orders // nil without credentials
	// private is OKX's, Bybit's, Kraken's or Coinbase's private
	// connection: nil without Config.Key.
	private *private
	rules   map[string]normalize.InstrumentRules
	listed  map[string]bool // canonical symbols the venue lists
	clock   clock

	life      context.Context // ends at Close
	stop      context.CancelFunc
	dying     context.Context // ends as Close starts: what Close would wait for gives up
	die       context.CancelFunc
	bg        sync.WaitGroup // the session's own timers (user-data retries)
	runWG     sync.WaitGroup
	resubStop context.CancelFunc // ends the shards' resubscribers
	// controlRate is each market connection's Client.ControlRate: the
	// host's, or the venue's (venueSpec.controlRate).
	controlRate float64
	resubWG     sync.WaitGroup
	closeOnce   sync.Once
	closing     atomic.Bool // set as Close starts: a write that fails then is ErrClosed
	// ban is the venue's refusal of the IP or the account for its rate
	// limits that said until when (Binance 418, 429 with retryAfter) and
	// ends last: no request is sent before its RetryAfter. placeBan is
	// the same for the unfilled order count (-1015), which holds back
	// places only. A refusal ending sooner (an answer to a request sent
	// before the ban, read after it) replaces neither (holdBan).
	ban, placeBan atomic.Pointer[VenueError]
	// sendTurn is the order lane's turn to stamp and write, one request
	// at a time (a channel, so that waiting for it heeds ctx): a request
	// is stamped with the venue's time only once the ones before it are
	// written, so the local queue does not eat its recvWindow.
	sendTurn chan struct{}
	// rate keeps the venue's order request rate (venueSpec.orderRate);
	// nil where none is counted.
	rate          *orderRate
	closeErr      error
	started       time.Time
	hooks         atomic.Pointer[testHooks] // nil but in tests (hooks.go)
	onStatePanics atomic.Uint64             // Config.OnState's, recovered (Stats.OnStatePanics)
}

// shard is one market connection with its parser and books.
type shard struct {
	client *wsclient.Client
	parser *normalize.Parser
	books  *book.Books
	syms   []string
	topics []string      // Binance's stream names, or symbol × channel
	subs   [][]byte      // the other venues' subscribe messages, one per channel and batch of symbols
	resub  *resubscriber // books resubscribed on the live connection; nil for Binance and without books
	retry  *marketRetry  // asks again for what the venue refused (marketrefusal.go)
	loss   *lossMarker   // announces a lost connection to its subscribers (connloss.go)
	// reading is the connection (wsclient's ConnID) whose frame the
	// parser handles now, or handled last: the connection a venue's
	// answer in it (a refusal) belongs to.
	reading atomic.Uint64
	runErr  error
}

// shardTopics makes a shard's subscriptions: Binance stream names
// (wsclient topics, subscribed in batches with request ids), or one
// subscribe message per channel for the shard's symbols.
func (s *Session) shardTopics(sh *shard, binance bool) error {
	venueSyms := make([]string, 0, len(sh.syms))
	for _, sym := range sh.syms {
		if binance && !s.listed[sym] {
			return fmt.Errorf("%w: %q is not in the venue's instrument list", ErrConfig, sym)
		}
		vs, err := s.syms.VenueSymbol(sym)
		if err != nil {
			return err
		}
		venueSyms = append(venueSyms, vs)
		for _, ch := range s.cfg.Channels {
			if !binance {
				sh.topics = append(sh.topics, ch+" "+vs)
				continue
			}
			t, err := normalize.BinanceStream(s.syms, sym, ch)
			if err != nil {
				return err
			}
			sh.topics = append(sh.topics, t)
		}
	}
	if binance {
		return nil
	}
	channels := s.cfg.Channels
	if k := s.spec.keepalive; k != "" && !slices.Contains(channels, k) {
		channels = append(slices.Clip(channels), k)
	}
	for _, ch := range channels {
		for _, syms := range s.spec.batches(ch, venueSyms) {
			msg, err := s.spec.subscribe(ch, syms)
			if err != nil {
				return err
			}
			sh.subs = append(sh.subs, msg)
		}
	}
	return nil
}

// Start loads the venue's instruments (and its clock offset), builds the
// pipeline and starts connecting; it does not wait for the connections
// (see [Session.WaitConnected]). Subscribe to [Session.Dispatcher] for the
// events. The returned session must be closed. ctx bounds the REST calls
// of Start only. Every method of the package given a nil ctx returns
// [pool.ErrNilContext] and does nothing (Close closes nothing).
func Start(ctx context.Context, cfg Config) (*Session, error) {
	if ctx == nil {
		return nil, pool.ErrNilContext
	}
	if cfg.Venue == "" {
		cfg.Venue = schema.VenueBinance
	}
	spec := venues[cfg.Venue]
	binance := cfg.Venue == schema.VenueBinance
	switch {
	case spec == nil:
		return nil, fmt.Errorf("%w: no session for venue %q", ErrConfig, cfg.Venue)
	case cfg.Endpoints.Stream == "" || (binance && cfg.Endpoints.REST == ""):
		return nil, ErrNoEndpoints
	case cfg.Credentials != nil && !binance:
		return nil, fmt.Errorf("%w: Config.Credentials are Binance's; the other venues' private channels take Config.Key", ErrConfig)
	case cfg.Credentials != nil && cfg.Endpoints.API == "":
		return nil, ErrNoEndpoints
	case cfg.RecvWindow > MaxRecvWindow || cfg.RecvWindow < 0 || (cfg.RecvWindow > 0 && cfg.RecvWindow < time.Millisecond):
		// Refused here rather than by the venue on every signed request
		// (-1131), or sent as 0 ms and silently replaced by the venue's 5 s;
		// a negative one is a mistake, not "unset" (0 is).
		return nil, fmt.Errorf("%w: RecvWindow %v is outside 1 ms..%v", ErrConfig, cfg.RecvWindow, MaxRecvWindow)
	case cfg.RESTTimeout < 0:
		return nil, fmt.Errorf("%w: RESTTimeout %v is negative", ErrConfig, cfg.RESTTimeout)
	case cfg.BookMaxSilence < 0:
		return nil, fmt.Errorf("%w: BookMaxSilence %v is negative", ErrConfig, cfg.BookMaxSilence)
	}
	if err := checkKey(&cfg); err != nil {
		return nil, err
	}
	if r := cfg.Client.Rand; r != nil {
		// wsclient calls Rand from one goroutine at a time — per client:
		// every connection of the session gets it, and the private side's
		// and the market refusals' backoffs draw from it too, so a host's
		// source need not be safe for concurrent use.
		var mu sync.Mutex
		cfg.Client.Rand = func(n int64) int64 {
			mu.Lock()
			defer mu.Unlock()
			return r(n)
		}
	}
	if cfg.MaxTopicsPerConn <= 0 {
		cfg.MaxTopicsPerConn = BinanceMaxStreamsPerConn
	}
	if cfg.RecvWindow <= 0 {
		cfg.RecvWindow = DefaultRecvWindow
	}
	if cfg.OrderAnswerTimeout == 0 {
		cfg.OrderAnswerTimeout = DefaultOrderAnswerTimeout
	}
	if cfg.RESTTimeout == 0 {
		cfg.RESTTimeout = DefaultRESTTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Pools == nil {
		cfg.Pools = schema.NewPools(nil)
	}
	if cfg.Client.Logger == nil {
		cfg.Client.Logger = cfg.Logger
	}
	if cfg.Client.Clock == nil { // wsclient's default, named once for the session's own timers
		cfg.Client.Clock = wsclient.SystemClock()
	}
	s := &Session{cfg: cfg, spec: spec, pools: cfg.Pools, syms: normalize.NewSymbols(spec.rules()), clock: clock{now: cfg.Now, timers: cfg.Client.Clock, timeout: cfg.RESTTimeout}, sendTurn: make(chan struct{}, 1),
		rate: newOrderRate(spec.orderRate.n, spec.orderRate.per, cfg.Client.Clock)}
	if binance || cfg.Endpoints.REST != "" {
		if err := s.loadInstruments(ctx); err != nil {
			return nil, err
		}
	}
	if s.syncsClock() {
		if err := s.clock.sync(ctx, cfg.HTTPClient, cfg.Venue, cfg.Endpoints.REST); err != nil {
			return nil, err
		}
	}
	dopts := dispatch.Options{Logger: cfg.Logger}
	if cfg.Dispatch != nil {
		dopts = *cfg.Dispatch
	}
	s.disp = dispatch.New(s.pools.Events, &dopts)
	s.life, s.stop = context.WithCancel(context.Background())
	s.dying, s.die = context.WithCancel(context.Background())
	if cfg.OnExecReport != nil {
		if err := s.subscribeExecs(s.life); err != nil {
			return nil, s.abort(err)
		}
	}
	if cfg.OnAccount != nil {
		if err := s.subscribeAccount(); err != nil {
			return nil, s.abort(err)
		}
	}
	if cfg.Subscribe != nil {
		if err := cfg.Subscribe(s.disp); err != nil {
			return nil, s.abort(err)
		}
	}
	if err := s.buildShards(); err != nil {
		return nil, s.abort(err)
	}
	if cfg.Credentials != nil {
		o, err := newOrders(s)
		if err != nil {
			return nil, s.abort(err)
		}
		s.orders = o
	}
	if cfg.Key != nil {
		p, err := newPrivate(s, privateSpecs[cfg.Venue], cfg.Key)
		if err != nil {
			return nil, s.abort(err)
		}
		s.private = p
	}
	s.state = newStateBoard(len(s.shards), s.orders != nil || s.private != nil)
	s.started = time.Now()
	s.startResubscribers()
	for _, sh := range s.shards {
		s.run(sh.client, &sh.runErr)
	}
	if s.orders != nil {
		s.run(s.orders.client, &s.orders.runErr)
	}
	if s.private != nil {
		s.private.start()
		s.run(s.private.client, &s.private.runErr)
	}
	return s, nil
}

// run runs a client until Close; the session owns the goroutine.
func (s *Session) run(c *wsclient.Client, errp *error) {
	s.runWG.Add(1)
	go func() {
		defer s.runWG.Done()
		*errp = c.Run(context.Background())
	}()
}

// abort undoes a Start that failed before any client ran.
func (s *Session) abort(err error) error {
	if s.stop != nil {
		s.stop()
		s.die()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.disp.Close(ctx)
	return err
}

// isBookChannel reports whether a Binance channel is the diff-depth stream
// a local book is built from ("depth", "depth@100ms"; not "depth5").
func isBookChannel(ch string) bool { return ch == "depth" || strings.HasPrefix(ch, "depth@") }

// buildShards spreads the symbols' streams over connections of at most
// MaxTopicsPerConn streams, a symbol's streams on one connection so that a
// lost connection invalidates only its own symbols' books.
func (s *Session) buildShards() error {
	cfg := &s.cfg
	if len(cfg.Symbols) == 0 || len(cfg.Channels) == 0 {
		return fmt.Errorf("%w: Config.Symbols and Config.Channels are required", ErrConfig)
	}
	if len(cfg.Channels) > cfg.MaxTopicsPerConn {
		return fmt.Errorf("%w: %d channels per symbol exceed %d streams per connection", ErrConfig, len(cfg.Channels), cfg.MaxTopicsPerConn)
	}
	var bookRule *book.Rule
	bookChannel := ""
	for _, ch := range cfg.Channels {
		if r, ok := s.spec.book(ch); ok {
			bookRule, bookChannel = &r, ch
		}
	}
	binance := s.spec.venue == schema.VenueBinance
	var okxFetch book.Fetcher
	if bookRule != nil && s.spec.venue == schema.VenueOKX {
		*bookRule, okxFetch = s.okxBooks(*bookRule)
	}
	perConn := cfg.MaxTopicsPerConn / len(cfg.Channels)
	parts := wsclient.SplitTopics(cfg.Symbols, perConn)
	if s.controlRate = cfg.Client.ControlRate; s.controlRate == 0 {
		s.controlRate = s.spec.controlRate() // the venue's pacing
	}
	msgLimit := cfg.Client.MessageLimit
	if msgLimit == nil {
		msgLimit = s.spec.messageLimit(cfg.Client.Clock) // shared by the connections where the venue limits per IP
	}
	for i, part := range parts {
		sh := &shard{syms: part}
		if err := s.shardTopics(sh, binance); err != nil {
			return err
		}
		rotate := func() {
			if c := sh.client; c != nil {
				_ = c.Rotate() // ErrNotConnected: the connection is gone already
			}
		}
		live := func() uint64 {
			if c := sh.client; c != nil {
				return c.Stats().ConnID
			}
			return 0
		}
		sh.retry = s.newMarketRetry(i, rotate, live)
		watch := bookWatch{next: s.disp, state: func() *stateBoard { return s.state }, rotate: rotate, shard: i, conn: sh.reading.Load, live: live, retry: sh.retry}
		sh.books = book.NewBooks(watch, s.pools.Events, &book.BooksOptions{Logger: cfg.Logger})
		if bookRule != nil {
			bopts := book.Options{Sink: watch, Events: s.pools.Events, MaxSilence: cfg.BookMaxSilence, Clock: cfg.Client.Clock}
			if binance {
				bopts.Fetcher = s.binanceFetcher()
			} else if bookRule.Resync == book.ResyncFetch {
				bopts.Fetcher, bopts.Clock = okxFetch, cfg.Client.Clock // venues.go, okxBooks
			} else {
				sh.resub = s.newResubscriber(sh, bookChannel)
				bopts.Resubscribe = sh.resub.ask
			}
			for _, sym := range part {
				b, err := book.NewBook(*bookRule, sym, &bopts)
				if err != nil {
					return err
				}
				sh.books.Add(b)
				s.books = append(s.books, b)
			}
		}
		sh.parser = s.spec.parser(s.pools.Events, sh.books, &normalize.Options{Symbols: s.syms, Logger: cfg.Logger})
		opts := cfg.Client
		opts.Venue = s.spec.venue
		opts.Frames = s.pools.Frames
		opts.MaxTopicsPerConn = 0 // the shards keep to it
		opts.ControlRate = s.controlRate
		opts.MessageLimit = msgLimit
		// The books' resubscriptions (Write) share the connection's pacer
		// with its subscriptions, heartbeats, pings and pongs: the venue
		// counts them all against one rate (Binance "WebSocket Limits":
		// 5 incoming messages per second per connection, disconnected
		// past it), which a pacer of their own beside it would double.
		opts.PaceWrites = true
		if opts.AlignKey == nil {
			opts.AlignKey = sh.parser.AlignKey // rotations align on the venue's data
		}
		if opts.Heartbeat == nil {
			opts.Heartbeat = s.spec.ping // OKX, Bybit: an application-level ping
		}
		switch {
		case opts.MaxAge == 0:
			opts.MaxAge = s.spec.maxAge // Binance: rotated before its 24 h cut
		case opts.MaxAge < 0:
			opts.MaxAge = 0 // negative: never rotated by age (as the WS-API connection)
		}
		if opts.IsData == nil {
			// The venue's data, not its heartbeats and answers: for
			// DataTimeout, and for rotations, which deliver the new
			// connection's answers from before the join (a refusal of its
			// subscriptions) instead of dropping them with the data there.
			opts.IsData = s.spec.isData
		}
		if binance {
			opts.Topics, opts.EncodeSubscribe = sh.topics, encodeSubscribe
		} else {
			opts.Topics, opts.EncodeSubscribe, opts.Subscriptions = nil, nil, sh.subs
		}
		conn := Conn{Role: RoleMarket, Shard: i}
		loss := s.newLossMarker(sh) // connloss.go
		sh.loss = loss
		loss.books = bookRule != nil // breaks them on the frame path's loss
		opts.OnEvent = sh.books.OnEvent(s.spec.venue, func(e wsclient.Event) { loss.onEvent(e); s.onEvent(conn, e) })
		c, err := wsclient.New(cfg.Endpoints.Stream, s.marketHandler(sh), &opts)
		if err != nil {
			return err
		}
		sh.client = c
		loss.rotating = func() bool { return c.State() == schema.ConnRotating }
		loss.rotations = func() uint64 { return c.Stats().Rotations }
		s.shards = append(s.shards, sh)
	}
	return nil
}

// marketHandler is sh's frame handler: the shard's parser, after noting
// the connection the frame came on (shard.reading) — during a
// make-before-break rotation the old connection's frames and the new
// one's both reach it, and a refusal is the connection's that read it.
func (s *Session) marketHandler(sh *shard) wsclient.Handler {
	return func(ctx context.Context, f *schema.WsFrame) error {
		sh.reading.Store(f.ConnID)
		s.hookFrame(f)
		sh.lossOnFrame(f)
		return sh.parser.HandleFrame(ctx, f)
	}
}

// lossOnFrame is the frame path's loss detection (lossMarker.onFrame): a
// loss its event has not brought the books or announced yet comes first.
func (sh *shard) lossOnFrame(f *schema.WsFrame) {
	if sh.loss != nil {
		sh.loss.onFrame(f)
	}
}

// binanceFetcher fetches a Binance book's REST snapshots, each within
// Config.RESTTimeout.
func (s *Session) binanceFetcher() *book.BinanceREST {
	cfg := &s.cfg
	return &book.BinanceREST{BaseURL: cfg.Endpoints.REST, Client: cfg.HTTPClient, VenueSymbol: s.syms.VenueSymbol, Timeout: cfg.RESTTimeout}
}

// encodeSubscribe is wsclient's EncodeSubscribe for Binance streams.
func encodeSubscribe(dst []byte, n int, topics []string) []byte {
	msg, err := normalize.BinanceSubscribe(uint64(n), topics...)
	if err != nil {
		return dst // topics were checked when they were made
	}
	return append(dst, msg...)
}

// onEvent records a connection's state and tells the host.
func (s *Session) onEvent(c Conn, e wsclient.Event) {
	if c.Role == RoleMarket {
		s.state.setMarket(c.Shard, e.State)
	}
	if s.cfg.OnState != nil {
		s.onState(c, e)
	}
}

// onState calls the host's OnState, on a connection's event goroutine
// (wsclient's: the session's handling of every later event of the
// connection runs on it too), recovering a panic: counted
// (Stats.OnStatePanics) and logged at Error, as dispatch does for a
// subscriber's handler. A runtime.Goexit no recover stops: it is counted
// and logged, and ends the event goroutine (see Config.OnState).
func (s *Session) onState(c Conn, e wsclient.Event) {
	returned := false
	defer func() {
		if returned {
			return
		}
		p := recover()
		s.onStatePanics.Add(1)
		if s.cfg.Logger == nil {
			return
		}
		if p == nil {
			s.cfg.Logger.Error("session: OnState called runtime.Goexit: this connection's later events are followed no more", "venue", string(s.spec.venue), "role", int(c.Role), "shard", c.Shard)
			return
		}
		s.cfg.Logger.Error("session: OnState panicked (recovered)", "venue", string(s.spec.venue), "role", int(c.Role), "shard", c.Shard, "panic", p)
	}()
	s.cfg.OnState(c, e)
	returned = true
}

// Dispatcher is where the events are: subscribe to it. Market data,
// books' best bid/offer and gap markers, connection states, the venue's
// answers and execution reports all arrive here.
func (s *Session) Dispatcher() *dispatch.Dispatcher { return s.disp }

// Pools are the session's pools: take order requests from Pools().Orders.
func (s *Session) Pools() *schema.Pools { return s.pools }

// Symbols is the venue's instrument registry, loaded at Start.
func (s *Session) Symbols() *normalize.Symbols { return s.syms }

// Book returns the L2 book of a symbol, or nil when no diff-depth channel
// was subscribed for it. A book is Live only while it is known good: a
// lost connection or a gap invalidates it until it has resynchronised.
func (s *Session) Book(symbol string) *book.Book {
	for _, sh := range s.shards {
		if b := sh.books.Book(s.spec.venue, symbol); b != nil {
			return b
		}
	}
	return nil
}

// WaitConnected waits until the session is ready to trade: every market
// connection connected, every book live and, with credentials, the order
// connection connected and its user-data subscription accepted. It
// returns early when ctx ends (its error), the session is closed
// ([ErrClosed]) or the venue refused the user-data subscription (a
// [*VenueError]; a refusal that may pass, such as -1021 for a timestamp
// outside recvWindow, is retried on the same connection with the offset
// measured again, after 1 s, then doubling up to 30 s). It returns a
// [*SubscribeError] when the venue refused a market connection's request
// (a channel or stream it does not serve, a symbol it does not list, a
// request over its limits: published too, as a schema.ControlVenueError)
// and the session is not ready: such a subscription's data never comes
// and its book never goes live, so waiting on would only end with ctx.
// A refusal counts while the connection that read it is live (a new
// connection sends every subscription again: a refusal that holds comes
// again) and until WaitConnected returns nil after it. Each refusal, of
// a market request or of the private side's login or subscription, is
// returned once: by every call waiting when it came (or begun while it
// counts and none has returned it yet), not by the calls begun after one
// returned it — those wait for the session to be ready, the venue's next
// refusal (a retried login refused again), Close or their ctx, so that a
// host calling again at once after a *SubscribeError or a *LoginError
// does not spin. It waits on the state changes, without polling.
func (s *Session) WaitConnected(ctx context.Context) error {
	if ctx == nil {
		return pool.ErrNilContext
	}
	var seen []marketRefusal
	told, toldUD := s.state.untold()
	told1, shard, n := false, 0, uint64(0) // the refusal returned, if one: shard (-1: the private side's) and its number
	err := s.state.wait(ctx, func(b *stateBoard) (bool, error) {
		if b.closed {
			return true, ErrClosed
		}
		if b.userDataErr != nil && b.userDataN > toldUD {
			told1, shard, n = true, -1, b.userDataN
			return true, b.userDataErr
		}
		if b.marketUp == len(b.market) && (!b.withOrders || b.ordersReady) && s.booksLive() {
			seen = b.refused
			return true, nil
		}
		for i, r := range b.refused {
			if r.err != nil && r.n > told[i] && s.shards[i].client.Stats().ConnID == r.conn {
				told1, shard, n = true, i, r.n
				return true, r.err
			}
		}
		return false, nil
	})
	switch {
	case err == nil:
		s.state.sawReady(seen)
	case told1:
		s.state.tell(shard, n)
	}
	return err
}

// booksLive reports whether every book is live.
func (s *Session) booksLive() bool {
	for _, b := range s.books {
		if !b.Live() {
			return false
		}
	}
	return true
}

// bookWatch sits between the books and the dispatcher: a best bid/offer,
// a gap marker or a connection state may change a book's liveness, so it
// wakes WaitConnected's waiters (free when there are none).
//
// It also rotates its connection (make-before-break, wsclient's Rotate)
// when the venue announces that it will close it: Binance's
// serverShutdown ("Please establish a new connection as soon as
// possible", Binance WebSocket Streams / WebSocket API "Server shutdown")
// and OKX's notice 64008 ("The connection will soon be closed for a
// service upgrade. Please reconnect.", OKX v5 "WebSocket" → "Notification
// of service upgrade", sent 60 s before), so no data is lost to the close.
// Only the live connection's notice does: one read on a connection a
// rotation replaced (its answers and notices still come for
// RotationOverlap after the switch) is about that one, gone already, and
// a Rotate would replace the live connection for it.
//
// It records the venue's refusals of its connection's requests, with the
// ConnID of the connection that read the refusal (conn: during a
// rotation the old connection's frames still come while the new one is
// live already), for WaitConnected, and has them asked again, and the
// venue's acknowledgements, for retry (marketRetry).
type bookWatch struct {
	next   book.Sink
	state  func() *stateBoard
	rotate func()
	shard  int
	conn   func() uint64 // the connection whose frame the shard's parser handles (shard.reading)
	live   func() uint64 // the shard's live connection (wsclient's ConnID)
	retry  *marketRetry
}

func (w bookWatch) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	switch ev.Type {
	case schema.EventBBO, schema.EventGap, schema.EventConnState:
		if b := w.state(); b != nil {
			b.poke()
		}
	case schema.EventControl:
		if closeAnnounced(ev) && w.rotate != nil && (w.conn == nil || w.live == nil || w.conn() == w.live()) {
			w.rotate()
		}
		if unsubscribeAnswer(ev) {
			break
		}
		c := ev.ControlOrZero()
		if c.Kind == schema.ControlVenueError && w.conn != nil {
			conn := w.conn()
			if b := w.state(); b != nil {
				b.refuseMarket(w.shard, conn, ev.Venue, ev.Control) // carried: its Kind is set
			}
			if w.retry != nil {
				w.retry.refuse(conn, ev.Control)
			}
		}
		if c.Kind == schema.ControlSubscribeAck && w.conn != nil && w.retry != nil {
			w.retry.accept(w.conn())
		}
	}
	return w.next.Publish(ctx, ev)
}

// closeAnnounced reports whether ev is a venue's notice that it will close
// the connection soon (see bookWatch).
func closeAnnounced(ev *schema.CanonicalEvent) bool {
	c := ev.ControlOrZero()
	if c.Kind != schema.ControlStatus {
		return false
	}
	switch ev.Venue {
	case schema.VenueBinance:
		return c.Reason == "serverShutdown"
	case schema.VenueOKX:
		return c.Code == 64008
	}
	return false
}

// Close closes every connection at once (a venue that does not answer the
// close frame costs one Options.CloseTimeout in all), waits within ctx
// for a timer of a connection rotation's window already fired on
// Client.Clock to return (the error then says so), publishes what the
// books still owe (a break's announcement; within ctx, and at most
// book.StateTimeout on an exhausted pool), then closes the dispatcher
// (draining what its subscribers have queued, within ctx), then shuts the
// pools down: its error names any pooled object that never came back (the
// leak check). Orders still waiting for an answer return [ErrClosed].
// Close is idempotent; it must not be called from a subscriber's handler
// or OnState.
func (s *Session) Close(ctx context.Context) error {
	if ctx == nil {
		return pool.ErrNilContext
	}
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.die() // a server-time request of a reconnect gives up now
		for _, sh := range s.shards {
			sh.retry.stop() // no rotation asked after Close
		}
		if s.resubStop != nil {
			s.resubStop()
			s.resubWG.Wait()
		}
		if s.private != nil {
			s.private.cancel() // a token fetch or a write in flight ends now
		}
		errs := s.closeClients(ctx)
		s.runWG.Wait()
		if s.private != nil {
			// Its worker starts reconciliation passes (s.bg): stopped
			// before s.bg is waited for.
			s.private.stop()
			errs = append(errs, runError(s.private.runErr))
		}
		s.bg.Wait()
		for _, sh := range s.shards {
			errs = append(errs, runError(sh.runErr))
		}
		if s.private != nil {
			errs = append(errs, s.private.repeats.stop(ctx)) // its window's end (readers and worker done)
		}
		if s.orders != nil {
			errs = append(errs, s.orders.repeats.stop(ctx))
			errs = append(errs, runError(s.orders.runErr))
			s.orders.failPending(0, ErrClosed)
		}
		s.closeBooks(ctx) // their BookMaxSilence timers: none fires into the closed dispatcher
		s.state.close()
		errs = append(errs, s.disp.Close(ctx))
		s.stop()
		errs = append(errs, s.pools.Shutdown(ctx))
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// closeBooks closes every shard's Books (book.Books.CloseContext), all
// at once: each waits for the event pool at most book.StateTimeout, and
// no longer than ctx, for what it still owes (a break's announcement, a
// connection state), so an exhausted pool costs Close one StateTimeout in
// all, not one per shard. A ctx that ends first leaves those
// announcements unpublished; its error is Close's from the dispatcher's
// and the pools' shutdown, which see the same ctx.
func (s *Session) closeBooks(ctx context.Context) {
	var wg sync.WaitGroup
	for _, sh := range s.shards {
		wg.Go(func() { _ = sh.books.CloseContext(ctx) })
	}
	wg.Wait()
}

// closeClients closes every client at once: a venue that does not answer
// the close frame costs one Options.CloseTimeout in all, not one per
// connection. The errors are in the clients' order.
func (s *Session) closeClients(ctx context.Context) []error {
	clients := make([]*wsclient.Client, 0, len(s.shards)+2)
	for _, sh := range s.shards {
		clients = append(clients, sh.client)
	}
	if s.orders != nil {
		clients = append(clients, s.orders.client)
	}
	if s.private != nil {
		clients = append(clients, s.private.client)
	}
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { errs[i] = c.Close(ctx) })
	}
	wg.Wait()
	return errs
}

func runError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, wsclient.ErrClosed) {
		return nil
	}
	return err
}

// Outstanding is how many pooled objects are checked out now, over all
// pools: 0 after a clean Close.
func (s *Session) Outstanding() int64 {
	var n int64
	for _, st := range s.pools.Stats() {
		n += st.InUse
	}
	return n
}
