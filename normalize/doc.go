// Package normalize turns venue messages into Meltica's canonical events.
//
// A venue parser ([Binance], [Coinbase], [Kraken], [OKX], [Bybit]) takes a [schema.WsFrame] — its HandleFrame method has the
// websocket client's handler signature — or raw bytes, splits the venue's
// envelope into a [schema.ProviderRaw] without copying, decodes each message
// into a pooled [schema.CanonicalEvent] and hands it to a [Sink] (the
// dispatcher), which takes ownership. The frame is only borrowed: symbols
// are interned strings from a [Symbols] registry, identifiers are copied
// into [schema.ID]s and numbers into [schema.Decimal]s, so nothing refers to
// the frame's buffer once HandleFrame returns.
//
// # Decoding
//
// Messages are read by a small JSON scanner shared by every venue: each
// message is validated once (envelopes and values already validated with
// their message are walked loosely), keys are matched exactly, and nothing
// is allocated. Exact matching avoids a trap of reflection decoders:
// goccy/go-json, like encoding/json, matches keys case-insensitively, and
// Binance sends "e" and "E", "t" and "T", "m" and "M" in one object. Each
// message type is a table — key, kind of value, place in the event — walked
// by one engine, so what differs between types and venues (the id field of a
// trade type, required fields, enum spellings, quote assets) is data, not a
// second copy of a parser. The venues after Binance share one shell as
// well: each brings an envelope splitter (Coinbase "channel"/"events" or
// "type", Kraken v2 "channel"/"data" and v1 arrays, OKX "arg"/"data", Bybit
// "topic"/"data") that names the table of each message and what the
// envelope says for all of them (sequence, time, symbol); the walk over
// arrays of messages, acks and unknown-type counting are common. Book levels
// are tuples ([price, qty, …], [side, price, qty]) or objects ({"price",
// "qty"}, {"side", "price_level", "new_quantity"}), a shape in the table.
// Prices sent as JSON numbers (Kraken v2) keep their text. In steady state a
// trade, best bid/offer, book diff (up to 20 levels a side once the pool's
// events have grown), ticker or execution report of any venue costs no
// allocation.
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
// A depth diff (Binance U/u and pu, OKX prevSeqId/seqId) that does not
// continue its symbol's previous one is preceded by a [schema.EventGap]
// event carrying the missing ids; a book snapshot restarts the sequence.
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
// order.place or order.cancel request; [Credentials] carry the API key and a
// [Signer] ([NewHMACSigner], [NewEd25519Signer]) and never print the secret.
// [BinanceSubscribe], [CoinbaseSubscribe], [CoinbaseExchangeSubscribe],
// [KrakenSubscribe], [OKXSubscribe] and [BybitSubscribe] build
// subscription requests to write through the websocket client.
package normalize
