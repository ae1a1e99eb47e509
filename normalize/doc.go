// Package normalize turns venue messages into Meltica's canonical events.
//
// One type, [Parser], serves every venue; [NewBinance], [NewCoinbase],
// [NewKraken], [NewOKX] and [NewBybit] build it from the venue's
// specification, which is data fixed at init: the envelope, the message
// kinds and the Go struct each is decoded into, the symbol rules, the
// sequence rule and the control messages, in one file per venue. A parser
// takes a [schema.WsFrame] — its HandleFrame method has the websocket
// client's handler signature — or raw bytes, splits the venue's envelope
// into a [schema.ProviderRaw] (stream or channel, payload; every venue),
// decodes each message into a pooled [schema.CanonicalEvent] and hands it
// to a [Sink] (the dispatcher), which takes ownership. The frame is only
// borrowed: symbols are interned strings from a [Symbols] registry,
// identifiers are copied into [schema.ID]s and numbers into
// [schema.Decimal]s, so nothing refers to the frame's buffer once
// HandleFrame returns.
//
// # Decoding
//
// All JSON goes through github.com/goccy/go-json's v2 API, which matches
// member names case-sensitively (Binance sends "e" and "E", "t" and "T",
// "m" and "M" in one object). Each message kind is a Go struct with json
// tags, decoded by goccy into a value the parser reuses. Its fields are a
// few value types that decode themselves through goccy's UnmarshalerFrom
// interface into storage they own: decimals keep the digits sent, quoted
// or bare ([schema.Decimal] decodes itself the same way); short strings
// (symbols, enum words) are held in place; book levels, tuples by position
// or objects by key, are appended straight to the event's reused slices.
// The struct then fills the event, applying the rules every venue shares
// (no negative prices, no book level — a delete included —, trade or
// liquidation at price 0, no trade or liquidation of quantity 0 ("-0"
// is 0) — ErrBadValue —,
// milliseconds to nanoseconds, interned symbols) with
// the venue's key named in any error. One rule for numbers on every
// venue: a decimal member (price, quantity, rate, fee) holding NaN or an
// infinity refuses its message with a *ParseError wrapping the
// *schema.DecimalError (schema.ErrDecimalNotFinite), one past a Decimal
// (a 63-bit mantissa, 18 digits after the point, trailing zeros after the
// point dropped first) with ErrDecimalOverflow or ErrDecimalPrecision, a
// negative one where the member may not be negative with ErrNegative; an
// integer member (ids, counts, times) that is none is ErrBadValue. No
// venue documents a value past a Decimal: Kraken v2 sends up to 10
// decimals, Binance and Coinbase 8 (their huge SHIB/PEPE volumes end in
// zeros, which are dropped), Bybit's small-cap prices fewer than 18 digits. In steady state no message of any
// venue allocates (a test runs every sample of testdata/venues).
//
// A message's type comes from its envelope, never from a second walk over
// the payload to classify it: OKX "arg.channel", Bybit "topic", Coinbase
// "channel" or "type", Kraken "channel", a Binance combined stream's name.
// A Binance frame in Binance's own layout — a raw payload with "e" first, a
// combined stream, a WS-API user-data wrapper — is recognised by its leading
// members (compact or with whitespace between the tokens, as Binance's docs
// print them) and its payload decoded once; a payload without "e" (spot
// bookTicker) is decoded once into a struct that both classifies and holds
// it. Member names sent twice are refused on every venue (goccy's default);
// the price: an object of more than 32 members the parser does not read
// (none documented) costs goccy's name check 4 allocations. The other venues' data arrays are walked twice, to find their
// elements and to decode each (see Speed for why and what it costs).
//
// goccy v0.12.0 is a recent rewrite: every call into it is the parser's
// boundary, where a panic is recovered into a [*ParseError] wrapping
// [ErrDecoderPanic] and counted (Stats.Panics); the event is returned to
// its pool and the next message is decoded as usual. Requests the package
// writes (subscriptions, signed orders) are encoded by goccy from typed
// structs as well.
//
// # Faults and logging
//
// [Options].Logger, when set, hears faults at Warn with the keys venue,
// symbol, stream, err and count: a message dropped, a recovered panic, a
// sequence gap, each kind at its 1st, 2nd, 4th, 8th… occurrence (never one
// record a message). Nothing is logged for a message that normalises.
//
// # Canonical fields
//
// Symbols are BASE-QUOTE ("BTC-USDT"); contracts keep their suffix
// ("BTC-USD-PERP", "BTC-USDT-250328"), perpetuals are -PERP on every venue
// (OKX "BTC-USDT-SWAP" is BTC-USDT-PERP), and Kraken's XBT is BTC.
// Perpetuals that share the spot spelling (Binance USDⓈ-M, Bybit linear
// "BTCUSDT") are told apart by the connection, not the symbol. SeqProvider is the venue's own
// sequence for the type (Binance: t for trades, a for aggregated trades, u
// for best bid/offer and depth, the last trade id L for klines and 24 h
// tickers, 0 where the venue gives none: mini tickers, mark prices,
// liquidations, execution reports; each venue parser documents its own).
// The id of the request an ack, error or order answer (WS-API order.place
// and order.cancel responses are [schema.EventOrderAck] events with the
// Exec section filled) answers is Control.RequestID. ExchangeTS is
// the time of the fact in Unix ns — the trade time T for trades and
// liquidations, the event time E otherwise, T when there is no E — and
// IngestTS is the frame's receive time. An instant member sent but
// outside what int64 ns holds (before 1970 or past 2262 in ms; an RFC 3339
// text outside 1970–2261) is a [*ParseError] (ErrBadValue), the
// envelope's own (Bybit "cts", "ts", "creationTime", Coinbase and Kraken
// "timestamp") for each message of its frame: never a message delivered
// with ExchangeTS 0 or another member's time.
//
// # Errors and counting
//
// A message that cannot be normalised yields a [*ParseError] naming venue,
// message type and field; it is dropped and counted, and nothing else is
// affected. A dropped book message is a lost one, though: where the
// venue's next message cannot show the loss — Kraken (no ids) and
// Coinbase (sequence_num counts frames, checked before their events are
// decoded) — a gap marker for the message's symbol follows the error
// (every book of the venue when no symbol could be read), so no book stays
// live without it; Binance, OKX and Bybit books see the gap in the next
// message's ids. Unknown message types are counted and skipped (nil error).
//
// State kept per stream (quote and trade marks, book continuity, Bybit
// ticker bases, Kraken book depths, stale marks) is bounded: each map holds
// at most 65,536 keys, so a feed of ever new symbol names cannot grow it.
// A stream met past the bound is counted (Stats.Untracked): its quotes and
// trades are delivered without the repeat check, never dropped; its book
// messages are [*ParseError]s wrapping [ErrTooManyStreams] (bounds.go).
//
// A key the venue's docs say every message of its type carries is
// required: absent, the message is a [*ParseError] wrapping
// [ErrMissingField] with that key as Field (a word the docs do not list
// wraps [ErrBadValue]), never an event with zeros. Books: both sides of a
// snapshot or update (OKX "asks"/"bids", Bybit "b"/"a", Kraken v2 and
// Coinbase Exchange "bids"/"asks", Coinbase "changes" and Advanced Trade
// "updates", Binance's REST and partial-depth "bids"/"asks"), and the
// word that tells a snapshot from an update (OKX "action" on books,
// books-l2-tbt and books50-l2-tbt; Bybit "type" on orderbook and tickers;
// Kraken v2 and Advanced Trade l2_data "type"); on an OKX update, seqId and
// prevSeqId as a pair (one without the other, prevSeqId -1 counting as
// none, cannot be checked: ErrMissingField), and "ts" on every OKX book
// channel's push (books5 and bbo-tbt included). A side sent as [] is legal:
// a one-sided book, a diff of one side. Execution reports: a fill's price
// (Binance "L", Bybit "execPrice", OKX "fillPx", Kraken "last_price"; a
// fill at price 0 is ErrBadValue), OKX "fillSz" when the order has fills
// (state partially_filled or filled), the symbol (Binance "s", Bybit
// "symbol", Coinbase "product_id"), Bybit "execType", Kraken "exec_type"
// and "order_status", Coinbase "cumulative_quantity" and
// "leaves_quantity". Trades: the id and the side (OKX "tradeId"/"side",
// Bybit "i", Kraken v2 "trade_id"/"side", Coinbase "trade_id"/"side"; an
// id sent as null, -1 or "" is none), and the time where the venue sends
// it with every trade (OKX "ts", Kraken v2 "timestamp", Coinbase
// Exchange match "time"; Kraken v1's time and side, positions 2 and 3);
// Binance trades also "T" and "m". Tickers: the last price and best bid
// and ask (OKX "last"/"bidPx"/"askPx", "" legal; Kraken v2 "bid"/"ask" —
// its "last" is "only guaranteed if traded within the past 24 hours" —,
// v1 "c"/"b"/"a"; Coinbase "price"/"best_bid"/"best_ask",
// ticker_batch only "price"), and the other members each venue sends in
// every ticker and we publish: OKX "lastSz", "askSz", "bidSz", "open24h",
// "high24h", "low24h", "vol24h", "volCcy24h" ("" legal); Kraken v2
// "bid_qty", "ask_qty", "volume", "low", "high", "change", "change_pct";
// Coinbase Advanced Trade "volume_24_h", "low_24_h", "high_24_h",
// "price_percent_chg_24_h" (and on ticker "best_bid_quantity",
// "best_ask_quantity"); Binance's full 24 h ticker "p", "P", "Q", "O",
// "C", "n" (the mini ticker has none of them); a Bybit ticker snapshot
// "highPrice24h", "lowPrice24h", "volume24h", "turnover24h". Binance
// liquidations: "ap", "z", "X", "T". Klines: the open, high, low and
// close, the volume, the interval and the open time (Binance "o"/"h"/"l"/
// "c"/"v"/"i"/"t", with "T", "x", "n" and "q"; Bybit "open"/"high"/"low"/"close"/
// "volume"/"interval"/"start", with "end" and "confirm"; Kraken v2
// "open"/"high"/"low"/"close"/"volume"/"interval"/"interval_begin";
// Coinbase candles "open"/"high"/"low"/"close"/"volume"/"start"; OKX
// candle channels all nine elements of [ts, o, h, l, c, vol, volCcy,
// volCcyQuote, confirm], the interval from the channel's name, its bars of
// 6 hours and more aligned to Hong Kong time "+08:00" unless named "utc").
// Binance's USDⓈ-M and COIN-M
// 24 h tickers send no bid or ask, and Bybit's ticker deltas only what
// changed: neither is required there (a Bybit ticker snapshot, the base
// its deltas merge into, needs "lastPrice").
// Messages a parser knows but skips on purpose are counted in
// Stats.Ignored, never as unknown, so a host's "unknown message" alarm
// means a real surprise: Binance TRADE_LITE, STRATEGY_UPDATE, GRID_UPDATE,
// spot listStatus (see below), USDⓈ-M compositeIndex and
// assetIndexUpdate (binance_futures_market.go), a USDⓈ-M "trade" entry of
// type "X":"NA" (price and quantity 0: no trade); OKX open-interest,
// index-tickers, price-limit and fills; Bybit greeks and dcp; Kraken v2
// instrument and level3; Coinbase status (Advanced Trade and Exchange).
// Each venue's channel table names the reason beside the channel: a
// message the schema has no place for, one that would stand in another
// event's latest-wins slot with zeros, or one another channel already
// reports in full.
// Subscription acks, venue errors, heartbeats, pongs and status messages
// become [schema.EventControl] events of the matching [schema.ControlKind].
//
// Messages that end or degrade a stream are control events too, critical
// like every control event (they wait for the pool, are never dropped),
// with the venue's code and reason: ControlVenueError for Binance
// listenKeyExpired (E sent as a number or a string) and
// eventStreamTerminated (Reason is the event's name; with or without the
// WS-API wrapper's subscriptionId), Binance's flat error
// {"code","msg","id"} and WS-API errors, OKX "error" and
// "channel-conn-count-error" events, Bybit op responses with
// "success":false (ret_code, ret_msg), Coinbase "error" messages and Kraken
// method errors; ControlStatus for Binance serverShutdown, OKX "notice"
// (code 64008: the connection closes for a service upgrade) and Kraken
// status messages (Reason "maintenance", "cancel_only", … or "online"),
// OKX's status channel and Bybit's system.status (one event per
// maintenance, Reason its state: "scheduled", "ongoing", "pre_open",
// "completed", "canceled"; status.go) and Binance USDⓈ-M and COIN-M
// contractInfo (the contract's Symbol, Reason its status "cs": TRADING,
// SETTLING, CLOSE, …).
//
// # Continuity
//
// Each venue's rule for what continues a stream, what repeats it and what
// follows a loss is the one normalize/book applies
// (normalize/internal/continuity): Binance spot diffs chain by U = previous
// u + 1 and USDⓈ-M/COIN-M diffs by pu = previous u, after the snapshot's
// lastUpdateId; OKX by prevSeqId = previous seqId, a keep-alive
// (prevSeqId = seqId) and a reset after maintenance (seqId < prevSeqId)
// being continuous; Bybit by u = previous u + 1, u = 1 a restart (but a
// repeat when its cross sequence seq is below the newest of its stream:
// a late copy of a restart already taken); Coinbase
// Advanced Trade by sequence_num + 1 per message of a connection; Kraken
// books carry no ids (their checksum is the check). A diff that follows
// lost messages is preceded by a [schema.EventGap] event naming the
// missing ids (with a count where ids are consecutive); for Coinbase one
// marker with no symbol and GapType EventUnknown stands for the whole
// connection. A repeat — ids the stream already covered, from a venue's
// resend or a rotation's overlap — is dropped and counted
// (Stats.Repeats), never a gap. A book snapshot restarts its stream —
// unless, on OKX and Bybit, its id is below the stream's position and its
// "ts" strictly before the last message delivered: an overlap's older
// snapshot, dropped and counted as a repeat (never a Bybit u = 1
// restart, which is older only by seq, nor a snapshot after a gap, a book
// message the pool could not carry or one the sink refused: that one
// repairs the book).
//
// # Trade repeats
//
// Trades repeat too: a make-before-break rotation's overlap when the two
// connections' frames differ (Coinbase Advanced Trade stamps each frame
// with its connection's sequence_num), the recent trades a venue sends
// on every subscription (Coinbase market_trades and Kraken v2 trade
// snapshots, Coinbase Exchange last_match). Where the venue's trade ids
// increase per symbol, a trade whose id is at most the highest delivered
// for its (symbol, message kind) is a repeat: dropped and counted
// (Stats.Repeats), never a gap. The ids compared, per venue:
//   - Binance: "t" of trade, "a" of aggTrade, two numberings (Binance
//     "WebSocket Streams", Trade and Aggregate Trade Streams);
//   - OKX: "tradeId" of trades (OKX API v5, "Trades channel");
//   - Coinbase: Advanced Trade "trade_id" of market_trades, Exchange
//     "trade_id" of match and last_match (per product);
//   - Kraken v2: "trade_id" of trade ("Trade ID: sequential int", Kraken
//     Spot WebSocket, v1 and v2 compared);
//   - Bybit "i" is a UUID on most categories and Kraken v1 sends no id:
//     never compared. Their rotations are aligned by wsclient on the
//     frames' bytes ([Parser.AlignKey] strips Kraken v1's channelID); a
//     rotation that cannot be aligned is reported
//     (wsclient.ErrRotationUnaligned), and its overlap may repeat trades.
//
// Within one frame the ids are compared with the stream's position before
// the frame, so a batch in any order is delivered whole. A trade at or
// below the highest id but later (ExchangeTS) than every trade delivered
// is a venue that started its ids again: delivered, and followed. The
// state is kept across reconnections and resubscriptions — the ids are
// the venue's, not the connection's, and keep increasing — so that a new
// connection's repeats are dropped and nothing new is. A subscription's
// recent trades that do not reach back to the last trade delivered (the
// oldest above it + 1) may follow lost trades: a [schema.EventGap] with
// GapType schema.EventTrade names the ids between, after them. The check
// allocates nothing (one mark per interned symbol and kind).
//
// # Quote repeats
//
// A best bid/offer, ticker, mark price or book top is latest-wins: never
// one older than one delivered (DESIGN.md contract 4). Where the venue
// numbers a symbol's quotes — Binance bookTicker "u", 24hrTicker and
// rolling-window tickers (1hTicker, 4hTicker, 1dTicker) "L", and
// partial depth "lastUpdateId"/"u" (per view), OKX bbo-tbt and books5
// "seqId", Bybit tickers "cs" (spot included), Coinbase Exchange ticker
// "sequence" — a quote whose number is at most the last delivered for its
// (symbol, stream, view: a Bybit ticker's snapshot and deltas are one) and
// whose exchange time is not later is dropped and counted
// (Stats.Repeats); one with a later time is delivered and its number
// followed (the venue numbering again). A quote numbered without a time
// (Binance spot bookTicker and partial depth) is compared by its number
// alone for 5 s (IngestTS) after the last one delivered (not when
// IngestTS went back: the host's clock stepped). Unnumbered quotes with
// the time of the fact (Binance miniTicker and markPriceUpdate "E", OKX
// tickers "ts", Kraken v2 ticker "timestamp") are compared by that time:
// a strictly older one is dropped within 5 s of the last delivered (a
// venue clock gone back is followed after that), one at the same time
// only when its bytes are those of one of the last 4 delivered at that
// time (an overlap replays a millisecond's quotes). Coinbase Advanced Trade ticker
// (its time is its frame's, per connection) and Kraken v1 are not
// compared. Two streams of one event type (Binance 24hrTicker and
// 24hrMiniTicker, both EventTicker) are each in their own order: one with
// an exchange time strictly older than the last the other stream delivered
// for the (symbol, type, view) is dropped and counted too, within the same
// 5 s; an equal time is delivered. A ticker's window is part of its view
// (schema.Ticker.Window): Binance's 1 h, 4 h and 1 d tickers are each
// compared with their own window's only, never with the 24 h ones. No allocation (one mark per interned
// symbol, stream and view, and per symbol, type and view of a type two
// streams carry). Details and sources: quotes.go.
//
// # Refused execution reports
//
// Execution reports are never lost silently (contract 3): one the parser
// refuses (a fill price it cannot read, NaN or negative, an unknown status,
// a symbol the registry does not know such as a Bybit option on the
// all-in-one "execution" topic) returns its *ParseError and is announced
// — so is a report channel's frame refused before its reports were read
// (its envelope does not decode, or it has no "data": Bybit
// "order"/"execution"/"execution.fast", OKX "orders"/"orders-algo"/
// "algo-advance", Kraken v2 "executions"; Coinbase Advanced Trade "user"
// without "events"), counted as one —
// by a gap marker: EventGap, Control.GapType EventExecReport, GapSource
// venue, GapCount the reports refused since the last marker, Reason
// "execution report refused: " and the first cause, Symbol the report's
// when it was resolved before the fault (else empty). At most one marker
// a second of receive time per parser: the first refused report is
// announced at once, those within the second after a marker are counted
// and announced by the first message of the connection after it (every
// one when frames carry no receive time; one received before the marker —
// the host's clock stepped back — at once, with those owed). Package session reconciles the
// open orders on such a marker, at most once per 30 s.
//
// # Pool exhaustion
//
// Execution reports, account updates, control and gap events wait for the event pool with the
// caller's ctx (they are never dropped otherwise). Market data does not wait:
// on an exhausted pool coalescable events (best bid/offer, tickers, live
// klines, mark prices) are dropped and counted, and ordered ones (trades,
// depth diffs, closed klines, liquidations) are replaced by a gap event
// naming the lost sequence; the error returned matches [ErrDropped].
//
// A dropped coalescable event leaves its subscribers holding the one
// before it, stale unless a fresher one follows. The parser marks the
// stream (interned symbol, type and view: one mark per stream however
// many drops, no allocation once the streams have been seen) and, before
// it publishes its next event of any stream, clears the mark of that
// event's own stream (a fresher value supersedes the dropped one) and
// publishes one gap marker (EventGap, Control.GapType the stream's type,
// its Symbol, Book.Depth and Kline.Interval, Reason "event pool
// exhausted: a fresher event was dropped") per other marked stream, for
// as long as the pool yields events without waiting: the reader never
// waits on the pool for a dropped quote. When the pool has no event for
// them and the event about to go out is coalescable too, the announcement
// goes first: that event's pooled event carries one marker instead, it is
// dropped (its own stream marked in turn) and the error matches
// [ErrDropped]. Execution reports, control and ordered events are never
// given up for a marker; the marks then wait for the next event. So under
// sustained exhaustion a subscriber may see markers rather than quotes,
// never a stale quote it was not told of — until no further message
// arrives at all: the marks go out with the next message of the
// connection.
//
// # Speed
//
// BenchmarkParse puts, for every sample of every venue, the whole normalize
// step (frame bytes → canonical events, pooled events returned to their
// pool) next to a bare goccy v2 decode of the same bytes into reused
// structs. For Binance the bare decode is one Unmarshal of the frame into
// the message's struct (inside its envelope's struct when it has one); for
// the other venues it is goccy's decode of the envelope and of each message
// into their reused structs, without events. Thread CPU time per message
// (cpu-ns/op), medians of six, both paths side by side in one run on a
// shared 2-core machine (AMD EPYC, Go 1.26) under load from other work:
// compare the ratios, not the absolute numbers. No path allocates.
//
//	go test -run '^$' -bench BenchmarkParse -benchmem -count 6 -benchtime 0.2s ./normalize/ | tee parse.txt
//	benchstat -col /path -filter '.unit:cpu-ns/op' parse.txt
//
//	sample (testdata/venues)                     normalize   goccy  ratio  allocs
//	binance_aggTrade                                  1060     761  1.39×  0
//	binance_bookTicker                                 904     669  1.35×  0
//	binance_combined_aggTrade                         1142     911  1.25×  0
//	binance_combined_bookTicker                       1094     892  1.23×  0
//	binance_combined_depthUpdate                      1772    1294  1.37×  0
//	binance_combined_depthUpdate_next                 1461    1088  1.34×  0
//	binance_combined_kline                            2061    1702  1.21×  0
//	binance_combined_trade                            1088     856  1.27×  0
//	binance_depthUpdate                               2072    1480  1.40×  0
//	binance_depth_snapshot                            291k    294k  0.99×  0
//	binance_executionReport_trade                     3125    2624  1.19×  0
//	binance_futures_forceOrder                        1372    1098  1.25×  0
//	binance_futures_markPriceUpdate                   1216    1034  1.17×  0
//	binance_kline                                     2773    1819  1.52×  0
//	binance_spot_executionReport_wrapped              3266    3392  0.96×  0
//	binance_trade                                     1067     744  1.43×  0
//	bybit_v5_allLiquidation                           1774    1599  1.11×  0
//	bybit_v5_kline                                    2772    2726  1.02×  0
//	bybit_v5_liquidation                              2188    1922  1.14×  0
//	bybit_v5_orderbook_delta                          5478    3127  1.75×  0
//	bybit_v5_orderbook_delta_docs                     4406    5408  0.81×  0
//	bybit_v5_orderbook_snapshot                        28k     22k  1.28×  0
//	bybit_v5_pong                                      603     481  1.25×  0
//	bybit_v5_publicTrade                              2146    2292  0.94×  0
//	bybit_v5_publicTrade_gct                          3563    2230  1.60×  0
//	bybit_v5_tickers_linear_delta                     2390    1982  1.21×  0
//	bybit_v5_tickers_linear_snapshot                  5120    4934  1.04×  0
//	bybit_v5_tickers_spot                             2850    3251  0.88×  0
//	coinbase_advanced_heartbeats                      1339    1102  1.22×  0
//	coinbase_advanced_l2_data_snapshot                6168    5654  1.09×  0
//	coinbase_advanced_l2_data_update                  3866    4038  0.96×  0
//	coinbase_advanced_l2_data_update_nautilus         4750    3039  1.56×  0
//	coinbase_advanced_market_trades                   4615    4506  1.02×  0
//	coinbase_advanced_subscriptions                   1604    1196  1.34×  0
//	coinbase_advanced_ticker                          3770    4130  0.91×  0
//	coinbase_exchange_l2update                        1444    1209  1.19×  0
//	coinbase_exchange_last_match                      2607    1904  1.37×  0
//	coinbase_exchange_level2_snapshot                 185k    193k  0.96×  0
//	coinbase_exchange_match                           2850    2006  1.42×  0
//	coinbase_exchange_subscriptions                    763     579  1.32×  0
//	coinbase_exchange_ticker                          2552    2566  0.99×  0
//	kraken_v1_book_snapshot                           519k    439k  1.18×  0
//	kraken_v1_book_update                             1347    1311  1.03×  0
//	kraken_v1_heartbeat                                420     288  1.46×  0
//	kraken_v1_systemStatus                             751     611  1.23×  0
//	kraken_v1_ticker                                  3434    3036  1.13×  0
//	kraken_v1_trade                                   1500    1217  1.23×  0
//	kraken_v2_book_snapshot                           4804    4692  1.02×  0
//	kraken_v2_book_snapshot_nautilus                  3880    3344  1.16×  0
//	kraken_v2_book_update                             2675    2388  1.12×  0
//	kraken_v2_book_update_compact                     3572    2840  1.26×  0
//	kraken_v2_executions_new                          1638    1370  1.20×  0
//	kraken_v2_heartbeat                                503     281  1.79×  0
//	kraken_v2_ohlc_snapshot                           4684    4001  1.17×  0
//	kraken_v2_status                                  1048    1006  1.04×  0
//	kraken_v2_subscribe_ack_book                       939     875  1.07×  0
//	kraken_v2_ticker_snapshot                         2870    2452  1.17×  0
//	kraken_v2_ticker_update                           3264    2729  1.20×  0
//	kraken_v2_trade_snapshot                          4066    2800  1.45×  0
//	kraken_v2_trade_update                            3807    2936  1.30×  0
//	okx_bbo_tbt                                       2202    1983  1.11×  0
//	okx_books_snapshot                                259k    293k  0.88×  0
//	okx_books_update                                   18k     16k  1.13×  0
//	okx_books_update_seqid                            7517    7320  1.03×  0
//	okx_funding_rate                                  1594    1358  1.17×  0
//	okx_subscribe_ack                                  814     548  1.48×  0
//	okx_tickers                                       2946    2802  1.05×  0
//	okx_trades                                        1632    1294  1.26×  0
//
// Every Binance type is within 1.5× of its bare decode but the raw kline
// at 1.52× in this run (the combined kline 1.21×; a rerun of both, four
// counts, gave 1.23× and 1.19×): what normalize adds is mostly the
// pooled event's Get, Reset and Put and the publish (about 250–400 ns), so
// the smallest messages show the largest ratios. For OKX, Bybit, Kraken
// and Coinbase the data array is walked twice, once to find its elements
// and once to decode each: goccy v0.12.0 has no zero-allocation way to
// decode a variable-length array of structs in one walk (a slice of
// structs allocates, and UnmarshalDecode called from an UnmarshalJSONFrom
// allocates five times per call), and one Unmarshal of a whole trade frame
// into arrays sized to it is 1.6–1.75× faster than the bare path above
// (okx_trades 0.81 against 1.34 µs, bybit_v5_publicTrade 1.21 against
// 1.86 µs, kraken_v2_trade_update 1.47 against 2.64 µs, measured the same
// way).
//
// # Orders
//
// [BinanceOrders] encodes a [schema.OrderRequest] as a signed WS-API
// order.place or order.cancel request, and
// [BinanceOrders.AppendUserDataSubscribe] the signed user-data
// subscription, timestamped anew for each connection; [Credentials] carry
// the API key and a [Signer] ([NewHMACSigner], [NewEd25519Signer]) and
// never print the secret. Execution reports come from Binance spot's
// executionReport and USDⓈ-M's and COIN-M's ORDER_TRADE_UPDATE (with the
// derivatives' PositionSide, ReduceOnly and RealizedPnL; CALCULATED, a
// liquidation's execution, as ExecTrade), from USDⓈ-M's ALGO_UPDATE (a
// conditional order in Binance's Algo Service: its client algo id and
// algo id; NEW, CANCELED, REJECTED, EXPIRED by name, TRIGGERING and
// TRIGGERED as ExecTriggered of a working order, FINISHED as Filled or
// Canceled by its executed quantity) and from CONDITIONAL_ORDER_TRIGGER_REJECT (a
// rejected report of the order whose trigger was refused), all as
// schema.EventExecReport events. TRADE_LITE is dropped (counted in
// Stats.Ignored): its fill is also in ORDER_TRADE_UPDATE, with the status,
// fee and realized profit TRADE_LITE lacks, so a host sees each fill once.
// STRATEGY_UPDATE and GRID_UPDATE (Binance's own grid strategies, whose
// orders come as ORDER_TRADE_UPDATE) and spot listStatus (an order list's
// state; each of its orders has its executionReport) are ignored too.
// Account updates are critical events too:
// spot outboundAccountPosition, balanceUpdate and externalLockUpdate, and
// USDⓈ-M and COIN-M ACCOUNT_UPDATE, become one schema.EventBalance per asset and one
// schema.EventPosition per position (USDⓈ-M MARGIN_CALL positions with
// Position.MarginCall), with their place in the venue's message (Index of
// Count); USDⓈ-M ACCOUNT_CONFIG_UPDATE is a schema.EventControl of kind
// schema.ControlAccountConfig (a symbol's leverage, or multi-assets mode). [ParseBinanceExchangeInfo] reads each
// instrument's [InstrumentRules] (tick and step sizes, minimum and maximum
// price, quantity and notional): [InstrumentRules.Check] validates an
// order, [InstrumentRules.Round] puts it on the tick and step sizes,
// [InstrumentRules.MinQtyAt] sizes the smallest order at a price.
// Every venue's list also gives the instrument's [TradingStatus]
// (InstrumentRules.Trading: open, halted, post only, limit only, reduce
// only), which Check applies: a snapshot of when the list was read.
// [InstrumentRules.CheckAt] adds the rules that need the market's
// reference price (Binance PERCENT_PRICE_BY_SIDE, a market order's
// notional).
// [BinanceSubscribe], [CoinbaseSubscribe], [CoinbaseExchangeSubscribe],
// [KrakenSubscribe], [OKXSubscribe] and [BybitSubscribe] build
// subscription requests to write through the websocket client.
//
// [OKXOrders] and [BybitOrders] encode a [schema.OrderRequest] as OKX's
// "order"/"cancel-order" operation (on the logged-in private WebSocket)
// and Bybit's "order.create"/"order.cancel" trade WebSocket request (after
// [BybitTradeAuth]); [OKXAnswers] and [BybitAnswers] read the venues'
// answers into a reused [OrderAnswer] without allocating (a refusal's
// message excepted), leaving every other frame to the parser.
//
// # Private channels of the other venues
//
// Execution reports also come, as schema.EventExecReport events on the
// critical lane (a host's session turns each into a pooled
// [schema.ExecReport]), from OKX's orders channel (log in with
// [OKXLogin], subscribe with [OKXSubscribeOrders]), Bybit's order and
// execution topics (authenticate with [BybitAuth]), Kraken v2's executions
// channel (a token from [FetchKrakenWebSocketsToken], then
// [KrakenSubscribeExecutions]) and Coinbase Advanced Trade's user channel
// ([CoinbaseJWT], [CoinbaseSubscribeUser]; Coinbase sends cumulative
// values, from whose growth the parser reports each fill, once, per order
// whichever connection reports it). Binance's executionReport and
// ORDER_TRADE_UPDATE follow the same rule for words as the others below. Each venue's
// message struct documents its mapping (statuses, exec types, fee signs,
// times); an order status the parser does not know drops the report with
// a [*ParseError] wrapping [ErrUnknownStatus] instead of guessing, and an
// execution type it does not know one wrapping [ErrUnknownExecType] (a
// report whose quantities show a fill is never dropped for a word). Every
// login and subscription is signed with the time it is made: make it anew
// for each connection. Not covered: OKX's fills channel (the orders
// channel carries every fill, with the status and fee fills lacks:
// counted Ignored), Bybit's execution rows of no order (Funding,
// Dividend, corporate-action settlements: account events whose balance
// change the wallet topic carries; counted Ignored), Kraken v1's
// ownTrades and openOrders (v2's executions replaces them), Coinbase
// Ed25519 keys.
//
// Their account updates become schema.EventBalance and
// schema.EventPosition events the way Binance's do, one per entry with its
// Index of Count: OKX's account channel (each currency's availBal and
// frozenBal, a BalanceSnapshot; [OKXSubscribeAccount]), positions
// channel ([OKXSubscribePositions]) and balance_and_position channel
// (each cash balance a BalanceWallet, each position as the positions
// channel's, Reason the eventType; [OKXSubscribeBalanceAndPosition]); Bybit's wallet topic (a normal SPOT
// account's free and locked, a BalanceSnapshot; a unified or contract
// account's walletBalance, a BalanceWallet) and position topic; Kraken
// v2's balances channel (totals only, BalanceWallet; a ledger update's
// amount as Delta; [KrakenSubscribeBalances]). Coinbase Advanced Trade
// streams no balances.
//
// [FetchOKXInstruments], [FetchBybitInstruments], [FetchKrakenInstruments]
// and [FetchCoinbaseInstruments] read the venues' instrument lists into
// [Instrument]s with their [InstrumentRules], through the [http.Client]
// the caller gives; a venue's refusal is a [*RESTError], a malformed
// answer a [*ParseError].
package normalize
