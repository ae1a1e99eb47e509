// Package session composes one venue's connections into what a trading
// bot uses: market data normalized and fanned out, L2 books that know when
// they are wrong, connection states as events, orders as calls that return
// the venue's answer, and the user-data stream's execution reports.
//
// The name is the field's: a venue session (as in FIX) is the logged-on
// set of connections through which a participant receives market data and
// enters orders, with its request tracking and its logon (here the signed
// user-data subscription) renewed on every reconnect.
//
// # What Start builds
//
//	venue ─ market connections (wsclient, sharded) ─ parser ─ book.Books ─┐
//	      └ WS-API connection (orders, user data) ── parser ─ answers ────┴─ dispatch.Dispatcher ─ subscribers
//
// In detail:
//
//   - The streams (Config.Symbols × Config.Channels) are spread over as
//     many wsclient connections as the venue's limit per connection
//     requires (Config.MaxTopicsPerConn, Binance 1024), a symbol's streams
//     on one connection; each connection has its parser and its
//     book.Books.
//   - A diff-depth channel keeps a book per symbol ([Session.Book]),
//     snapshot from the venue's REST depth endpoint, checked by the
//     venue's continuity rule, and invalidated at once when its
//     connection is lost (book.Books.OnEvent is each connection's
//     wsclient OnEvent). The books publish their best bid/offer and gap
//     markers.
//   - Every connection state change reaches the subscribers as an
//     schema.EventConnState (the order connection's with a Control.Reason
//     starting "orders: "), and Config.OnState.
//   - With Config.Credentials, the WS-API connection: on every
//     (re)connect the clock offset to the venue is measured again and
//     userDataStream.subscribe.signature is signed anew with the venue's
//     time — a subscription kept from an earlier connection would carry a
//     stale timestamp and be refused. Execution reports and account
//     updates (schema.EventBalance, schema.EventPosition) arrive on the
//     dispatcher's critical lane, which never drops; Config.OnExecReport
//     and Config.OnAccount hand them to the host.
//
// # Orders
//
// [Session.Place] and [Session.Cancel] take the pooled
// *schema.OrderRequest (from Pools().Orders; it stays the caller's and may
// be Put when the call returns), wait until the order connection is up and
// its user-data stream subscribed, check the request against the
// instrument's rules, send it with a fresh request id, and return the
// venue's answer: an [Ack] or a [*VenueError] with the venue's code. ctx
// bounds the call; a connection lost while waiting returns
// [ErrDisconnected] at once (the outcome is then unknown: the execution
// reports tell). The answers are published on the dispatcher too.
// A user-data subscription the venue refuses (a clock beyond recvWindow,
// a revoked key) makes WaitConnected and Place return its [*VenueError];
// it is signed and sent again on the next connection.
//
// # Lifecycle and ownership
//
// Start loads the instruments and the venue's time (Binance's REST), then
// starts one goroutine per connection (wsclient's Run, with its own reader
// and event goroutines); the dispatcher starts one per subscription, the
// session's own Config.OnExecReport and Config.OnAccount subscriptions
// included. Nothing else
// runs. Close
// stops every connection, drains and closes the dispatcher, and shuts the
// pools down: its error names any pooled object not returned (the leak
// check), and [Session.Outstanding] is then 0. Events handed to
// subscribers are heap clones, theirs to keep, as dispatch says.
//
// # Venues
//
// Binance spot: market streams, books (snapshots from REST), instrument
// rules, WS-API orders and user data. Kraken v2, OKX v5, Bybit v5 and
// Coinbase Advanced Trade (Config.Venue): market data and, for OKX, Bybit
// and Coinbase, books kept from the venue's own snapshots; a book that
// breaks on a live connection waits for the venue's next snapshot (after
// a reconnect at the latest), as the session does not resubscribe by
// itself. Endpoints are always given: [BinanceLive], [BinanceTestnet], a
// venue's public URL or a simulated venue's. The packages the session
// composes remain usable by hand.
package session
