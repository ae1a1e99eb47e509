package session

import (
	"bytes"
	"log/slog"
	"strings"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// venueSpec is what the session knows of a venue's market data, as data:
// its parser and symbol spelling, how channels are subscribed and which
// channel keeps a book by which rule. Binance also has REST (instruments,
// book snapshots, server time) and the WS-API (orders, user data); the
// others are market data only.
type venueSpec struct {
	venue  schema.Venue
	rules  func() normalize.SymbolRules
	parser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
	// subscribe returns the message subscribing channel for venue symbols;
	// nil for Binance, whose streams are wsclient topics.
	subscribe func(channel string, venueSyms []string) ([]byte, error)
	// unsubscribe is subscribe's inverse: a broken book's channel is
	// unsubscribed and subscribed again for a new snapshot (resubscriber).
	unsubscribe func(channel string, venueSyms []string) ([]byte, error)
	// subArgs bounds one subscribe message, as the venue documents it:
	// at most n arguments (symbols) and a message of at most bytes bytes,
	// frame of them its own and argLen giving one argument's length in
	// it; zeros where the venue documents no bound. More symbols go in
	// more messages (batches).
	subArgs argBound
	// perIP is the venue's limit of messages a client sends per second
	// per IP, over all its connections (messageLimit); 0 where the
	// venue documents none.
	perIP float64
	// budget is the venue's budget of subscription requests per
	// connection, as a token bucket (messages per second, burst); zero
	// where the venue has none beyond the client's pacing.
	budget struct{ rate, burst float64 }
	// book returns the rule of the book a channel keeps, if it keeps one.
	book func(channel string) (book.Rule, bool)
	// ping is the venue's application-level ping for market data
	// connections (wsclient Options.Heartbeat, unless the host set one);
	// nil where the venue needs none.
	ping []byte
	// keepalive is a channel subscribed on every market data connection,
	// for the shard's symbols, unless Config.Channels has it: the venue
	// ends quiet subscriptions without it. Empty where none is needed.
	keepalive string
	// maxAge is the age at which a market data connection is replaced
	// make-before-break (wsclient Options.MaxAge, unless the host set
	// one), for a venue that ends connections at a documented age; 0 for
	// none.
	maxAge time.Duration
	// isData tells a market frame that carries the subscriptions' data
	// from a heartbeat, a pong, an acknowledgement or a status message
	// (wsclient Options.IsData: for the host's DataTimeout, and for a
	// rotation, which delivers the new connection's answers from before
	// the streams join instead of dropping them): it looks at
	// the frame's first bytes only, for the markers of the venue's
	// messages that are no data, and allocates nothing.
	isData func(frame []byte) bool
	// orderRate is the venue's limit of order requests per instrument and
	// per operation (place, cancel), kept before sending (orderRate); zero
	// where the session counts none.
	orderRate struct {
		n   int
		per time.Duration
	}
}

// headLen is how much of a frame isData looks at: the envelope's first
// members, where the venues put what kind of message it is.
const headLen = 96

// noneOf returns an isData that takes a frame for data unless its head
// holds one of markers.
func noneOf(markers ...string) func([]byte) bool {
	return func(frame []byte) bool {
		head := frame[:min(len(frame), headLen)]
		for _, m := range markers {
			if bytes.Contains(head, []byte(m)) {
				return false
			}
		}
		return len(bytes.TrimSpace(head)) > 0
	}
}

// binanceMaxAge: "A single connection to stream.binance.com is only valid
// for 24 hours; expect to be disconnected at the 24 hour mark" (Binance
// WebSocket Streams, "General WSS information"). Rotated an hour before.
const binanceMaxAge = 23 * time.Hour

// venues are the venues a session serves. Their public endpoints are the
// Stream URLs to give (Binance's are in [BinanceLive]): Kraken
// wss://ws.kraken.com/v2, OKX wss://ws.okx.com:8443/ws/v5/public, Bybit
// wss://stream.bybit.com/v5/public/spot, Coinbase
// wss://advanced-trade-ws.coinbase.com.
var venues = map[schema.Venue]*venueSpec{
	schema.VenueBinance: {
		venue: schema.VenueBinance, rules: normalize.BinanceSymbolRules, parser: normalize.NewBinance,
		book:   func(ch string) (book.Rule, bool) { return book.Binance, isBookChannel(ch) },
		maxAge: binanceMaxAge,
		// No ping: Binance's keep-alive is WebSocket pings, every 20 s on
		// spot and 3 minutes on USDⓈ-M futures (WebSocket Streams,
		// "General WSS information"). They and the pongs to wsclient's own
		// pings prove the path, not the data: they do not feed the idle
		// watchdog (contract 5), so a symbol quiet for Client.IdleTimeout
		// (30 s) is redialled. Hosts of illiquid symbols raise IdleTimeout
		// (or turn it off and set Client.DataTimeout, with isData below).
		// Answers to requests ({"result":null,"id":1}, {"error":…,"id":3}:
		// Binance WebSocket Streams "Live Subscribing/Unsubscribing"), its
		// errors ({"code":0,"msg":"Unknown property","id":1}: "Error
		// Messages") and the notice {"e":"serverShutdown"} ("serverShutdown").
		isData: noneOf(`"result"`, `"error"`, `"code"`, `"serverShutdown"`),
	},
	// Kraken v2 ("trade", "ticker", "book", "ohlc"). Its book checksum
	// needs each pair's price and quantity precision, which the session
	// does not load: no books.
	schema.VenueKraken: {
		venue: schema.VenueKraken, rules: normalize.KrakenSymbolRules, parser: normalize.NewKraken,
		subscribe: func(ch string, syms []string) ([]byte, error) {
			return normalize.KrakenSubscribe(subReqID, ch, syms...)
		},
		unsubscribe: func(ch string, syms []string) ([]byte, error) {
			return normalize.KrakenUnsubscribe(unsubReqID, ch, syms...)
		},
		book: func(string) (book.Rule, bool) { return book.Rule{}, false },
		// v2: {"channel":"heartbeat"}, {"channel":"status",…}, answers
		// {"method":…}; v1: {"event":"heartbeat"}, systemStatus,
		// subscriptionStatus (Kraken Spot WebSocket v2 "Heartbeat",
		// "Status"; v1 "General Messages").
		isData: noneOf(`"channel":"heartbeat"`, `"channel": "heartbeat"`, `"channel":"status"`, `"channel": "status"`, `"method"`, `"event"`),
	},
	// OKX v5 public ("trades", "tickers", "bbo-tbt", "books": the 400-level
	// book; okxBooks says by which rule). 480 subscribe/unsubscribe/login requests per
	// connection per hour (OKX API v5, "WebSocket" limits): a bucket of
	// 40 of them, then 440 an hour; the connection's own subscription
	// messages come out of it (resubBudget).
	schema.VenueOKX: {
		venue: schema.VenueOKX, rules: normalize.OKXSymbolRules, parser: normalize.NewOKX,
		subscribe: func(ch string, syms []string) ([]byte, error) { return normalize.OKXSubscribe(ch, syms...) },
		unsubscribe: func(ch string, syms []string) ([]byte, error) {
			msg, err := normalize.OKXUnsubscribe(ch, syms...)
			return withOKXID(msg, unsubReqID), err // its answer echoes the id (unsubscribeAnswer)
		},
		budget: struct{ rate, burst float64 }{rate: 440.0 / 3600, burst: 40},
		// "the total length of multiple channels cannot exceed 64 KB"
		// (OKX v5 "WebSocket", "Subscribe"): an argument is
		// {"channel":"…","instId":"…"}, 26 bytes and the two names. The
		// page does not say whether the request's envelope counts: the
		// whole message is kept within 64 KB, which keeps either reading.
		subArgs: argBound{bytes: 64 << 10, frame: len(`{"op":"subscribe","args":[]}`), argLen: func(ch, sym string) int { return 26 + len(ch) + len(sym) }},
		book:    func(ch string) (book.Rule, bool) { return book.OKXFetch, ch == "books" },
		// OKX v5 "WebSocket", "Connect": a connection that pushed nothing
		// for 30 s is closed; the text "ping" is answered "pong".
		ping: []byte("ping"),
		// "pong", and events: subscribe, error, notice ({"event":…}).
		isData: noneOf("pong", `"event"`),
		// "WebSocket Place order", "WebSocket Cancel order": 60 requests
		// per 2 seconds, per User ID + Instrument ID.
		orderRate: struct {
			n   int
			per time.Duration
		}{60, 2 * time.Second},
	},
	// Bybit v5 ("publicTrade", "tickers", "orderbook.50", …: a channel is
	// the topic before the symbol).
	schema.VenueBybit: {
		venue: schema.VenueBybit, rules: normalize.BybitSymbolRules, parser: normalize.NewBybit,
		subscribe: func(ch string, syms []string) ([]byte, error) {
			return normalize.BybitSubscribe(subReqID, bybitTopics(ch, syms)...)
		},
		unsubscribe: func(ch string, syms []string) ([]byte, error) {
			return normalize.BybitUnsubscribe(unsubReqID, bybitTopics(ch, syms)...)
		},
		// Spot takes "up to 10 args for each subscription request" (Bybit
		// v5 WebSocket "Connect", "How to Subscribe to Topics"); kept on
		// every category (the others' bound, 21,000 characters of args,
		// is then never reached).
		subArgs: argBound{n: 10},
		book: func(ch string) (book.Rule, bool) {
			depth, ok := strings.CutPrefix(ch, "orderbook.")
			if !ok {
				return book.Rule{}, false
			}
			r, err := book.Bybit.WithDepth(atoi(depth))
			return r, err == nil
		},
		// Bybit v5 "Connect", "How to Send the Heartbeat Packet": every 20 s.
		ping: []byte(`{"op":"ping"}`),
		// Answers to ops (ping, subscribe) carry "op"; data "topic". An
		// answer puts "op" last, after ret_msg (a refusal's reason), the
		// connection's conn_id and the request's req_id — past the head
		// ({"success":true,"ret_msg":"subscribe","conn_id":"2324d924-…",
		// "req_id":"10001","op":"subscribe"}: Bybit v5 "Connect",
		// "Understanding the Subscription Response") —, and leads with
		// "success"; the linear pong {"op":"pong",…} leads with "op".
		isData: noneOf(`"op"`, `"success"`),
	},
	// Coinbase Advanced Trade ("market_trades", "ticker", "level2").
	schema.VenueCoinbase: {
		venue: schema.VenueCoinbase, rules: normalize.CoinbaseSymbolRules, parser: normalize.NewCoinbase,
		subscribe:   func(ch string, syms []string) ([]byte, error) { return normalize.CoinbaseSubscribe(ch, syms...) },
		unsubscribe: func(ch string, syms []string) ([]byte, error) { return normalize.CoinbaseUnsubscribe(ch, syms...) },
		book:        func(ch string) (book.Rule, bool) { return book.Coinbase, ch == "level2" },
		// "Advanced Trade API WebSocket unauthenticated messages are
		// rate-limited at 8 per second per IP address" (Coinbase Advanced
		// Trade "WebSocket Rate Limits").
		perIP: 8,
		// Coinbase Advanced Trade "WebSocket Channels": most channels close
		// within 60-90 s without updates; heartbeats keep them open.
		keepalive: "heartbeats",
		// The heartbeats and subscriptions channels, errors (and the
		// Exchange feed's heartbeat and subscriptions types).
		isData: noneOf(`"channel":"heartbeats"`, `"channel": "heartbeats"`, `"channel":"subscriptions"`, `"channel": "subscriptions"`,
			`"type":"error"`, `"type": "error"`, `"type":"heartbeat"`, `"type":"subscriptions"`),
	},
}

// bybitTopics are the topics of channel for symbols: "orderbook.50" and
// "BTCUSDT" make "orderbook.50.BTCUSDT".
func bybitTopics(channel string, venueSyms []string) []string {
	topics := make([]string, len(venueSyms))
	for i, s := range venueSyms {
		topics[i] = channel + "." + s
	}
	return topics
}

// controlRate is the Client.ControlRate of each market connection when
// the host sets none: wsclient.DefaultControlRate (4, under Binance's 5
// messages per second per connection; OKX, Bybit and Kraken document no
// message rate per connection or IP for their public streams beyond the
// subscription budgets, so they keep it), or, where the venue limits
// messages per IP (perIP, Coinbase), the rate of that limit
// (messageLimit), which the connections share: one connection alone may
// use all of it.
func (v *venueSpec) controlRate() float64 {
	if v.perIP <= 0 {
		return wsclient.DefaultControlRate
	}
	return v.perIPRate()
}

// perIPRate is the rate that keeps to perIP: a window of a second closed
// at both ends holds ⌊rate⌋+1 messages, so perIP − 1 (Coinbase: 7).
func (v *venueSpec) perIPRate() float64 { return v.perIP - 1 }

// messageLimit is the budget the market connections of a session share
// where the venue limits messages per IP (perIP), when the host gave none
// (Client.MessageLimit, which a host with several sessions on one IP
// shares among them): at perIPRate on clk. Nil where the venue has no
// such limit. Every connection counts in it, a rotation's new one beside
// the old (n+1 connections): rates divided among n connections went over
// the limit then.
func (v *venueSpec) messageLimit(clk wsclient.Clock) *wsclient.MessageLimit {
	if v.perIP <= 0 {
		return nil
	}
	return wsclient.NewMessageLimit(v.perIPRate(), clk)
}

// resubBudget is the share of the venue's budget of subscription
// requests per connection (budget: what an hour holds, burst + rate ×
// 3600) left to the books' resubscriptions on a connection that sends
// own subscription messages of its own at each connect: own comes out of
// the burst first, then out of the rate. Zeros where the venue has no
// budget.
func (v *venueSpec) resubBudget(own int) (rate, burst float64) {
	b := v.budget
	if b.rate <= 0 {
		return 0, 0
	}
	if left := b.burst - float64(own); left >= 1 {
		return b.rate, left
	}
	// The burst is gone (one message kept for a book that breaks first):
	// the rest of own, and that one, come out of the hour's refill. A
	// connection whose own messages fill the hour leaves one an hour.
	perHour := b.burst + b.rate*3600 - float64(own) - 1
	return max(perHour, 1) / 3600, 1
}

// argBound bounds one subscribe message (venueSpec.subArgs): at most n
// arguments, and bytes bytes in all, frame of them the message's own
// with no argument (its envelope and the args array's brackets).
type argBound struct {
	n, bytes, frame int
	argLen          func(channel, venueSym string) int
}

// batches cuts venueSyms into the runs one subscribe message of channel
// may hold (venueSpec.subArgs), in order; one run when the venue bounds
// nothing. A symbol whose argument alone passes the byte bound goes in a
// run of its own (the venue refuses it, typed, as any refused
// subscription).
func (v *venueSpec) batches(channel string, venueSyms []string) [][]string {
	n, limit := v.subArgs.n, v.subArgs.bytes
	if n <= 0 && limit <= 0 {
		return [][]string{venueSyms}
	}
	var out [][]string
	start, size := 0, v.subArgs.frame
	for i, sym := range venueSyms {
		arg := 0
		if limit > 0 {
			arg = v.subArgs.argLen(channel, sym)
			if i > start {
				arg++ // the comma before it
			}
		}
		if i > start && ((n > 0 && i-start == n) || (limit > 0 && size+arg > limit)) {
			out = append(out, venueSyms[start:i])
			start, size = i, v.subArgs.frame
			if limit > 0 {
				arg-- // first of its run: no comma
			}
		}
		size += arg
	}
	return append(out, venueSyms[start:])
}

// atoi reads a small decimal number; -1 when it is not one.
func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' || n > 1<<20 {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	if s == "" {
		return -1
	}
	return n
}

// okxBooks returns the rule and the Fetcher of a session's OKX books.
// OKX no longer sends the books channel's initial snapshot (API changelog
// "Delist initial snapshot and checksum field in order book channels",
// production August 2026): the book is fetched from GET
// /api/v5/market/books on Endpoints.REST ("How to manage a local order
// book correctly"), by [book.OKXFetch], which still takes a stream
// snapshot that holds the book (an OKX that sends one). One
// [book.OKXREST] serves every book of the session, its [book.OKXLimiter]
// keeping them inside OKX's limit of the endpoint (40 requests per 2 s
// per IP), on the session's clock. Without Endpoints.REST the books keep
// the stream's snapshots alone ([book.OKX], resubscribing after a gap):
// on today's OKX they never go live, and Start logs a warning saying so
// (Config.Logger, else slog.Default).
func (s *Session) okxBooks(r book.Rule) (book.Rule, book.Fetcher) {
	cfg := &s.cfg
	if cfg.Endpoints.REST == "" {
		logger := cfg.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("session: OKX books without Endpoints.REST are kept from the stream's snapshots alone, which OKX no longer sends (API changelog \"Delist initial snapshot and checksum field in order book channels\"): on today's OKX they never go live; set Endpoints.REST",
			"venue", string(schema.VenueOKX))
		r.Resync = book.OKX.Resync
		return r, nil
	}
	return r, &book.OKXREST{BaseURL: cfg.Endpoints.REST, Client: cfg.HTTPClient, VenueSymbol: s.syms.VenueSymbol,
		Timeout: cfg.RESTTimeout, Limiter: &book.OKXLimiter{Clock: cfg.Client.Clock}}
}
