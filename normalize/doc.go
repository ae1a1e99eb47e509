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
// (no negative prices, milliseconds to nanoseconds, interned symbols) with
// the venue's key named in any error. In steady state no message of any
// venue allocates (a test runs every sample of testdata/venues).
//
// A frame is read in one pass where the venue names the message's type in
// its envelope: OKX "arg.channel", Bybit "topic", Coinbase "channel" or
// "type", Kraken "channel", and a Binance combined stream's name. A Binance
// payload sent raw is recognised by its "e" when it comes first (Binance's
// layout); one without "e" (spot bookTicker) is decoded once into a struct
// that both classifies and holds it.
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
// [Options].Logger, when set, hears each fault at Warn with the keys venue,
// symbol, stream and err: a message dropped, a recovered panic, a sequence
// gap. Nothing is logged for a message that normalises.
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
// IngestTS is the frame's receive time.
//
// # Errors and counting
//
// A message that cannot be normalised yields a [*ParseError] naming venue,
// message type and field; it is dropped and counted, and nothing else is
// affected. Unknown message types are counted and skipped (nil error).
// Subscription acks, venue errors, heartbeats, pongs and status messages
// become [schema.EventControl] events of the matching [schema.ControlKind].
//
// Messages that end or degrade a stream are control events too, critical
// like every control event (they wait for the pool, are never dropped),
// with the venue's code and reason: ControlVenueError for Binance
// listenKeyExpired (E sent as a number or a string) and
// eventStreamTerminated (Reason is the event's name), Binance's flat error
// {"code","msg","id"} and WS-API errors, OKX "error" and
// "channel-conn-count-error" events, Bybit op responses with
// "success":false (ret_code, ret_msg), Coinbase "error" messages and Kraken
// method errors; ControlStatus for Binance serverShutdown, OKX "notice"
// (code 64008: the connection closes for a service upgrade) and Kraken
// status messages (Reason "maintenance", "cancel_only", … or "online").
//
// # Continuity
//
// Each venue's rule for what continues a stream, what repeats it and what
// follows a loss is the one normalize/book applies
// (normalize/internal/continuity): Binance spot diffs chain by U = previous
// u + 1 and USDⓈ-M/COIN-M diffs by pu = previous u, after the snapshot's
// lastUpdateId; OKX by prevSeqId = previous seqId, a keep-alive
// (prevSeqId = seqId) and a reset after maintenance (seqId < prevSeqId)
// being continuous; Bybit by u = previous u + 1, u = 1 a restart; Coinbase
// Advanced Trade by sequence_num + 1 per message of a connection; Kraken
// books carry no ids (their checksum is the check). A diff that follows
// lost messages is preceded by a [schema.EventGap] event naming the
// missing ids (with a count where ids are consecutive); for Coinbase one
// marker with no symbol and GapType EventUnknown stands for the whole
// connection. A repeat — ids the stream already covered, from a venue's
// resend or a rotation's overlap — is dropped and counted
// (Stats.Repeats), never a gap. A book snapshot restarts its stream.
//
// # Pool exhaustion
//
// Execution reports, control and gap events wait for the event pool with the
// caller's ctx (they are never dropped otherwise). Market data does not wait:
// on an exhausted pool coalescable events (best bid/offer, tickers, live
// klines, mark prices) are dropped and counted, and ordered ones (trades,
// depth diffs, closed klines, liquidations) are replaced by a gap event
// naming the lost sequence; the error returned matches [ErrDropped].
//
// # Orders
//
// [BinanceOrders] encodes a [schema.OrderRequest] as a signed WS-API
// order.place or order.cancel request, and
// [BinanceOrders.AppendUserDataSubscribe] the signed user-data
// subscription, timestamped anew for each connection; [Credentials] carry
// the API key and a [Signer] ([NewHMACSigner], [NewEd25519Signer]) and
// never print the secret. Execution reports come from Binance spot's
// executionReport and USDⓈ-M's ORDER_TRADE_UPDATE as
// schema.EventExecReport events. [ParseBinanceExchangeInfo] reads each
// instrument's [InstrumentRules] (tick and step sizes, minimum and maximum
// price, quantity and notional): [InstrumentRules.Check] validates an
// order, [InstrumentRules.Round] puts it on the tick and step sizes,
// [InstrumentRules.MinQtyAt] sizes the smallest order at a price.
// [BinanceSubscribe], [CoinbaseSubscribe], [CoinbaseExchangeSubscribe],
// [KrakenSubscribe], [OKXSubscribe] and [BybitSubscribe] build
// subscription requests to write through the websocket client.
package normalize
