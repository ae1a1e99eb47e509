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
//     venue's continuity rule, and invalidated when its connection is
//     lost: as wsclient reports the loss (book.Books.OnEvent is each
//     connection's wsclient OnEvent, on the connection's event goroutine,
//     where the host's OnState runs too), and at the latest before the
//     next connection's first frame is read, even while OnState holds
//     that goroutine (connloss.go, lossMarker) — Stats may name the new connection
//     before then. The books publish their best bid/offer and gap
//     markers. With Config.BookMaxSilence a book whose stream stops
//     while its connection lives reports itself silent (not live, a gap
//     marker with book.ReasonSilent) instead of serving its last state
//     as current.
//   - A market connection is replaced make-before-break (wsclient's
//     rotation: nothing lost, nothing twice) before the venue ends it:
//     Binance's at 23 h (it cuts connections at 24 h; Config.Client.MaxAge
//     overrides, negative: never by age), and at once when the venue announces the close (Binance
//     serverShutdown, OKX notice 64008). Binance's WS-API connection,
//     which the venue also ends at 24 h ("A single connection to the API
//     is only valid for 24 hours"), is replaced at the same age
//     (Config.Client.MaxAge, 23 h by default; negative: never) the way
//     a serverShutdown replaces it (below); its user data is subscribed
//     on the connection (userDataStream.subscribe.signature), so no
//     listenKey needs keeping alive. The other venues' private
//     connections (OKX, Bybit, Kraken, Coinbase) document no lifetime
//     (OKX v5 "WebSocket → Connect", Bybit v5 "WebSocket → Connect":
//     max_active_time bounds an idle connection, Kraken "Reconnection and
//     resilience", Coinbase Advanced Trade "WebSocket Overview"): they are
//     rotated at Config.Client.MaxAge only when the host sets it, and when
//     the venue announces the close (OKX notice 64008). Such a rotation is
//     make-before-break (wsclient Options.Prepare): the new connection is
//     logged in (signed with the venue's time then) and its private
//     channels subscribed, their answers awaited, while the old one still
//     delivers the reports and the answers of the requests in flight; the
//     switch follows once the old connection has answered the requests
//     in flight on it, at most 15 s after the rotation began; the old
//     connection then stays open 20 s more delivering its answers (wsclient
//     Options.IsData, RotationOverlap), and a request still unanswered
//     after that, or once the old connection ends if sooner (wsclient
//     Options.OnReplacedEnd), ends with ErrDisconnected (outcome unknown;
//     its reports come on the new connection, subscribed before the switch);
//     no second login. Orders made meanwhile wait for
//     the switch and go on the new connection (on the old one, an order
//     sent just before the switch would lose its answer with it). A report
//     the venue sends on both connections meanwhile is delivered once: a
//     fill is dropped as a repeat by the parser (same order and trade id;
//     Coinbase: no growth of cumulative_quantity), any other report equal
//     in every field to one the other connection delivered (or, on the new
//     connection, an ExecOrderStatus restating it, equal in every other
//     field: a Coinbase snapshot of an order already reported) by the session
//     (OrderStats.Duplicates: the reports of the rotation's 50 s on
//     Client.Clock, however many, besides the latest 64 before it, which a
//     new connection's snapshot repeats). Kraken's orders keep the old
//     connection's WebSocket token until the switch (the new one's after
//     it; the old one's still after a failed rotation). A refused login or subscription, or none
//     answered within 20 s (twice the handshake's answer deadline), fails
//     the rotation: the old connection stays, logged in, orders go on it
//     again (on one the venue announced it will close too: below),
//     OnState sees Connected on it with a *wsclient.PrepareError
//     (wrapping the *LoginError, or context.DeadlineExceeded), and
//     wsclient tries again after its backoff. OKX ends a private
//     channel's subscription after acknowledging it when the account has
//     it on 30 connections (channel-conn-count-error, OKX v5 "WebSocket →
//     Connection count limit"; a make-before-break rotation needs one
//     connection more): that is a refused subscription — on a rotation's
//     new connection before its Prepare returned (after the handshake it
//     waits for the old connection's answers), a failed rotation, the old
//     connection kept, still subscribed; on the live connection, or on
//     the new one once Prepare returned (its switch under way), the
//     private side not ready (a *LoginError naming the channel) and that
//     channel alone subscribed again after the backoff, no second login.
//     When the venue
//     announces the close of the connection orders go on (OKX notice
//     64008 on the private connection, Binance serverShutdown on the
//     WS-API: "Connection events"; Bybit's refusal 10019 on the trade
//     connection, "ws trade service is restarting, do not accept new
//     request … You can build new connection", "Error Codes"; such a
//     notice the replaced connection delivers in its grace after a
//     switch is its own), the session reconnects ahead:
//     orders wait from the notice on (none goes out on a connection about
//     to close, where its answer would be lost with it), a new connection
//     is dialled at once while the old one still delivers the answers of
//     the requests in flight and the reports. On OKX it is the rotation
//     above; on Binance's WS-API too, the user data subscribed on the new
//     connection (userDataStream.subscribe.signature, signed then) before
//     the switch, at serverShutdown and at the age above alike: the
//     user-data stream is never down. A report sent on the old connection
//     only (before the new subscription took effect) and still in transit
//     at the switch is closed away with it: a reconciliation pass follows
//     every switch (with Endpoints.REST on the private venues; on
//     Binance's WS-API always), as after a reconnect.
//     Should no new connection be had, or its subscription be refused or
//     unanswered (answerTimeout, 10 s), the old connection stays and
//     orders go on it again, whose user-data subscription still holds;
//     wsclient tries again after its backoff. So on a connection whose
//     close the venue announced (OKX: "Please reconnect", sent 30 s to
//     60 s before the close, v5 "WebSocket → Notification of service
//     upgrade"; Bybit: "You can build new connection"): orders wait while
//     its replacement is prepared, and go on it again when that fails —
//     the venue serves it until its close, and a bot is not kept from
//     trading for up to a minute; an answer the close cuts off is the
//     lost connection's (ErrDisconnected, reconciled after it) — while
//     the rotation is asked again (wsclient's next try, after its
//     backoff). A notice the old connection delivers while a rotation (at
//     MaxAge) prepares the new one counts the same: it is not dropped.
//   - Config.Client.DataTimeout (wsclient: a connection whose
//     subscriptions bring no data for that long is dead, though its
//     heartbeats and pongs still come — the stall the idle watchdog
//     cannot see on OKX, Bybit, Kraken and Coinbase, whose keep-alives
//     are messages) holds for the market connections, with the venue's
//     own IsData (what is not a heartbeat, pong, acknowledgement or
//     status message), and never for the order and private connections:
//     a quiet account sends nothing for hours, legitimately; their
//     pings judge them. It is off by default: a channel of a quiet
//     symbol (trades of an illiquid pair) may bring nothing for minutes,
//     and the right bound is the host's to choose.
//   - Every connection state change reaches the subscribers as an
//     schema.EventConnState (the order connection's with a Control.Reason
//     starting "orders: "), and Config.OnState.
//   - With Config.Credentials, the WS-API connection: on every
//     (re)connect the clock offset to the venue is measured again and
//     userDataStream.subscribe.signature is signed anew with the venue's
//     time — a subscription kept from an earlier connection would carry a
//     stale timestamp and be refused. A retry the venue refuses with
//     -2035 (a subscription already active on the connection: the first
//     one's answer was lost) is its ack; -2042 (the connection's lifetime
//     count of subscriptions reached) replaces the connection at once —
//     a -2042 again on the new connection after a backoff (1 s doubling
//     to 30 s), so that a venue refusing every connection so gets no
//     storm of dials.
//     Execution reports and account
//     updates (schema.EventBalance, schema.EventPosition) arrive on the
//     dispatcher's critical lane, which never drops; Config.OnExecReport
//     and Config.OnAccount hand them to the host.
//
// # Orders
//
// (Binance here; OKX, Bybit and Kraken under "Orders by venue".)
// [Session.Place] and [Session.Cancel] take the pooled
// *schema.OrderRequest (from Pools().Orders; it stays the caller's and may
// be Put when the call returns), wait until the order connection is up and
// its user-data stream subscribed, check the request against the
// instrument's rules (MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS against the
// orders it follows on the symbol and still working, the exchange filters
// EXCHANGE_MAX_NUM_ORDERS and EXCHANGE_MAX_NUM_ALGO_ORDERS against those
// of every symbol: Field "OpenOrders", "OpenAlgoOrders"; only while the
// statuses followed are the venue's as of now — not from a loss of the
// user-data stream until its reconciliation ends: the venue's -2010 then
// tells), send it with a fresh request id, and return the
// venue's answer: an [Ack] or a [*VenueError] with the venue's code. ctx
// bounds the call; after the venue's refusal for its rate limits that
// says until when (status 418, an IP ban, or 429 with
// error.data.retryAfter: Binance WebSocket API "Rate limits"; a ban grows
// with every request sent during it), Place and Cancel send nothing
// before that time and return [ErrNotSent] wrapping that [*VenueError]
// (over the unfilled order count, -1015, Place only: a cancel lowers it);
// a connection lost while waiting returns
// [ErrDisconnected] at once (the outcome is then unknown: the execution
// reports tell). The answers are published on the dispatcher too.
// A refusal that echoes no request id (OKX {"event":"error",…}, Binance
// {"id":null,…}, Bybit and Kraken answers without reqId/req_id) answers
// the request alone awaiting an answer on its connection, an order's or a
// private subscription's: its code at once; with several awaiting, none.
// A user-data subscription the venue refuses (a clock beyond recvWindow,
// a revoked key) makes WaitConnected and Place return its [*VenueError];
// it is signed and sent again on the next connection. One the venue does
// not answer within 10 s on Config.Client.Clock makes them return a
// [*LoginError] (Step "subscribe", Channel "userDataStream") wrapping
// [ErrNoAnswer], and is signed and sent again on that connection after
// the backoff (1 s doubling to 30 s), unless its late answer comes
// first. A subscription the
// venue ends while the connection stays open (eventStreamTerminated:
// "sent when the User Data Stream is stopped") is signed and sent again
// on that connection — at once, then after a backoff of 1 s doubling to
// 30 s should the venue keep ending it (a stream that held a minute
// starts the backoff over) —; orders wait meanwhile, and its
// acceptance reconciles the window, as after a reconnect.
//
// # Execution reports across reconnects
//
// Binance streams an execution report once, to the user-data
// subscriptions open at that moment, and never replays it; so do OKX's
// "orders" channel and Bybit's "order" and "execution" topics (they push
// changes only, nothing on subscribe), Kraken's "executions" channel
// (its snapshot on subscribe holds the open orders, not those that ended
// meanwhile, nor their fills), and Coinbase's "user" channel restates on
// subscribe only the orders still open (its snapshot): a fill, cancel or
// expiry between the loss of the connection and the venue's acceptance of
// the next subscription (Binance's userDataStream.subscribe; OKX's and
// Bybit's login and private subscriptions; Kraken's executions
// subscription; Coinbase's user subscription) is not streamed to anyone,
// or on Coinbase only as an open order's grown totals. With
// Config.Credentials (Binance), or Config.Key and Endpoints.REST (OKX,
// Bybit, Kraken, Coinbase), the session closes that window itself; one
// reconciler serves the five venues, each with its own queries:
//
//	venue    order                                 fills                                          open orders (first subscription)
//	Binance  order.status (WS-API, weight 4)       myTrades, orderId (budgeted at 20), 1000/page  openOrders.status (80)
//	OKX      GET /api/v5/trade/order (instId,      GET /api/v5/trade/fills (ordId; 100/page,      GET /api/v5/trade/orders-pending
//	         ordId or clOrdId)                     newest first, after = billId; last 3 days)     (instType SPOT; after = ordId)
//	Bybit    GET /v5/order/realtime, then          GET /v5/execution/list (orderId; 100/page,     GET /v5/order/realtime
//	         /v5/order/history (category spot,     cursor = nextPageCursor)                       (openOnly 0, 50/page, cursor)
//	         orderId or orderLinkId)
//	Kraken   POST /0/private/QueryOrders (txid,    POST /0/private/QueryTrades (the order's       the executions channel's snapshot
//	         trades, consolidate_taker false); by  trade txids from QueryOrders, 20 a call);      (snap_orders, on every subscription)
//	         cl_ord_id: OpenOrders, ClosedOrders   without them TradesHistory (50/page, ofs)
//	Coinbase GET /api/v3/brokerage/orders/         GET …/orders/historical/fills (order_ids;      GET …/orders/historical/batch
//	         historical/{order_id}                 100/page, cursor until "")                     (order_status OPEN, product_type
//	                                                                                              SPOT, 100/page, cursor while has_next)
//
// (Binance spot WS-API "Query order", "Account trade history", "Current
// open orders"; OKX v5 "Trade → Get order details", "Get transaction
// details (last 3 days)", "Get order List", signed with OK-ACCESS-KEY,
// -SIGN, -TIMESTAMP and -PASSPHRASE; Bybit v5 "Trade → Get Open & Closed
// Orders", "Get Order History", "Position → Get Trade History", signed
// with X-BAPI-API-KEY, -TIMESTAMP, -RECV-WINDOW (Config.RecvWindow) and
// -SIGN; Kraken Spot REST "Query Orders Info", "Query Trades Info", "Get
// Open Orders", "Get Closed Orders", "Get Trades History", POSTs signed
// with API-Key and API-Sign over a nonce; Coinbase Advanced Trade "Orders
// → Get Order", "List Fills", "List Orders", each with a JWT of its own as
// "Authorization: Bearer": ES256, the key's name, two minutes, the claim
// uri "GET host/path", host that of Endpoints.REST. Each request is signed
// with the venue's time.)
//
//   - It follows every open order: its own (from Place's ack), those the
//     stream shows (placed elsewhere on the account), and, from the open
//     orders at the first subscription, those open before Start. For
//     each, in memory: the last status, the quantity of the fills
//     delivered to the host, their trade ids (the venue's as sent:
//     Binance's and OKX's tradeId are integers, Bybit's execId a UUID,
//     Kraken's trade_id an integer per pair: REST's trade info and the
//     executions channel both carry it; Coinbase's trade_id a string),
//     and the quantity filled before the session first saw the order (not
//     the session's to deliver). An order is forgotten once it ended and
//     its fills are delivered (Bybit streams an order's end and its fills
//     on two topics, in either order; the last 1024 forgotten are
//     remembered, so a late report does not follow one again); at most
//     Config.MaxTrackedOrders (10000) are followed, past which an order is
//     not, counted (OrderStats.TrackOverflow) and logged at Warn. The
//     streamed path allocates nothing per report of a followed order whose
//     trade ids have room (8 to start; see TestObserveAllocs).
//   - When the venue accepts a subscription and one was accepted before,
//     or when the subscribed private connection loses a message (a jump
//     in Coinbase's sequence_num, which numbers every message of the
//     connection: an order's end may be among them), a pass asks, for every followed order, the order query, and only
//     when it says more has filled than was delivered, the fill query,
//     page after page (at most 10000 fills; a fill listed twice is kept
//     once, by order and trade id — Kraken's TradesHistory lists every
//     pair's trades, and its trade_id is unique per pair only —, and a page that brings no fill not read already
//     ends the list). More filled is what the order query says, or what
//     the stream said (an answer made before a fill streamed since says
//     less). A lost connection stops the pass; the next
//     subscription's pass starts over (and reads the open orders, when a
//     loss cut the first subscription's reading of them short). An answer
//     under an HTTP status other than 200 is a refusal of that status,
//     whatever its body says; one that lists more than 100 entries is
//     unreadable.
//   - With the stream up, a streamed report whose cumulative filled
//     quantity (Binance z, OKX accFillSz, Bybit cumExecQty, Kraken
//     cum_qty, Coinbase cumulative_quantity) is past the fills delivered
//     (a fill report lost in transit) has that order alone asked about,
//     as a pass would: after 1 s on Client.Clock (a fill on another topic,
//     Bybit's execution after its order topic, covers it meanwhile: no
//     query), at most once per 10 s per order, for at most 256 orders
//     noted at once, never while a pass runs (which asks about every
//     order) and without starting or stopping one; its queries count in
//     Reconciled, ReconcileWeight and ReconcileErrors, not
//     Reconciliations. An open order whose fills are listed short of its
//     cumulative quantity (the venue's fill list a moment behind) is asked
//     once more 10 s later before its gap marker. A query given up gets a
//     gap marker (below).
//   - The fills not delivered are published as execution reports through
//     the same critical lane as the streamed ones (Config.OnExecReport and
//     every subscriber of schema.EventExecReport), in trade order (by
//     trade id where the venue's are integers; Bybit's by execTime, then
//     by orderQty − leavesQty; Coinbase's by trade_time), with
//     Execution.Reconciled set and the
//     venue's trade id, price, quantity, fee (what was paid: OKX's sign
//     flipped) and fee asset, maker flag and time; CumFillQty, CumQuoteQty,
//     RemainingQty and Status (partially filled, filled) are the venue's
//     after that fill (Bybit's own; otherwise counted back from the
//     order's executed quantity, so that fills older than the venue keeps
//     leave the later ones' right). The order's fields come from the order
//     query. Then, if the order ended in the window other than filled, one
//     report of its end (canceled, expired, expired in match, rejected),
//     Reconciled too. When the fills found do not make up the executed
//     quantity the order query gives (OKX keeps 3 days of fills; a
//     venue's lists may lag), the host gets a gap marker (below): an open
//     order stays followed and its fills are read again at the next pass;
//     one that ended gets the marker once, then its end report, and is
//     forgotten.
//   - Each fill reaches the host once: fills are deduplicated by trade id
//     per order, both ways — a streamed report of a fill reconciled
//     already is dropped (OrderStats.Duplicates), as is a streamed end
//     that reconciliation published, and reconciliation skips a fill the
//     stream delivered. A pass publishes an order's reports under the
//     lock the stream's reports take, so none comes between them; a fill
//     streamed while the pass was querying may still come before the
//     window's fills it follows (its cumulative quantities are the
//     venue's at its time, so the largest CumFillQty is the order's).
//     Coinbase's user channel sends an order's cumulative quantities, not
//     its fills: a streamed fill there is the growth of
//     cumulative_quantity since the order's last report, without a trade
//     id, and is matched by quantity — the part of it reconciliation
//     delivered is cut off (all of it: dropped, counted in Duplicates; a
//     part: the report keeps the rest, its LastFillPrice the growth of
//     filled_value over it, its Fee the growth of total_fees less the
//     fees delivered), and reconciliation skips the fills whose
//     cumulative quantity the stream's growth covered.
//   - Pacing: the queries draw on a token bucket of
//     Config.ReconcileWeight per minute (holding at most a minute's
//     worth), one order after the other, so that reconciliation never
//     competes with orders for the venue's limits. Binance: request
//     weight, 1200 by default (a fifth of its 6000 per minute per IP); a
//     pass over N orders with nothing missed costs 4N. OKX: requests, 360
//     by default (a fifth of the 60 per 2 s each query allows per user).
//     Bybit: requests, 600 by default (a fifth of its 50 per second), an
//     order lookup counted as 2 (realtime, then history). Kraken: private
//     REST calls, 4 by default (DefaultReconcileKraken: a fifth of the
//     Starter tier's 20 a minute, a counter of 15 decaying 0.33 a second;
//     a host on a higher tier may give more), QueryTrades and
//     TradesHistory counted as 2 (trade history calls), an order lookup
//     as 2 (by cl_ord_id, open then closed orders). Coinbase: requests,
//     360 by default (a fifth of Advanced Trade's 30 private requests per
//     second per user). A query that
//     fails — refused (Binance 429/-1003, 5xx/-1000 family, -1021; OKX
//     50011 and HTTP 429, 50001, 50004, 50013, 50026, 50102 timestamp
//     expired, 5xx; Bybit 10006, 10018, HTTP 403 and 429, 10000, 10016,
//     10002 timestamp outside recv_window, 5xx; Kraken, whose errors are
//     strings under HTTP 200, "EAPI:Rate limit exceeded" and its kin,
//     "EAPI:Invalid nonce", "EService:Unavailable"/"Busy", HTTP 429 and
//     5xx; Coinbase HTTP 429, 5xx), unanswered within 10 s (by default) on
//     Client.Clock (every REST call of the session: Config.RESTTimeout),
//     unreadable — is counted (OrderStats.ReconcileErrors), logged at
//     Warn and tried again after the connection's backoff
//     (Client.BackoffBase, doubling, at most Client.BackoffCap), five
//     times in all; a rate-limit refusal (Binance 429, 418, -1003; OKX
//     50011, 50061, 429; Bybit 10006, 10018, 403, 429; Kraken's rate
//     limit, throttling and temporary lockout, 429; Coinbase 429) also
//     empties the
//     bucket, so that every query then waits for the budget to refill;
//     a timestamp refusal (Binance -1021, OKX 50102, Bybit 10002) has the
//     clock offset measured again first (the host's clock may have
//     stepped since the login measured it). Kraken's nonce — Unix ms, or
//     one above the key's last — comes from one counter per API key that
//     every session of the process, its WebSocket token requests and its
//     queries share, so concurrent calls never reuse one; a call refused
//     "EAPI:Invalid nonce" (another call of the key came first, or another
//     client's nonces run ahead) is tried again with a new nonce within the
//     five tries and the budget, never more. Place and Cancel never wait
//     for it: the pass runs on a goroutine of its own.
//   - When it gives up on an order (five failures, a refusal that cannot
//     pass such as Coinbase's 401, an order the venue's queries do not
//     find — Binance -2013, OKX 51603, Kraken "EOrder:Unknown order", a
//     Bybit order in neither list, Coinbase's 404: its reports may be
//     lost —, more than 10000 fills,
//     fills short of the executed quantity), the host is told: a
//     schema.EventGap on the dispatcher with Control.GapType
//     schema.EventExecReport, GapSource schema.GapVenue, the venue's code
//     in Control.Code (0 when it did not refuse; Kraken's, whose errors
//     are strings, normalize.KrakenCode…, its strings in the reason), the
//     reason, the symbol
//     and, in Exec.VenueOrderID, the order; logged at Error and counted
//     (OrderStats.ReconcileGaps). Subscribers of EventGap or of
//     EventExecReport receive it (Config.OnExecReport does not: it takes
//     ExecReports only). The order stays followed, and the next
//     reconnect's pass tries it again.
//   - A Place whose outcome is unknown (ErrDisconnected, ErrBadAnswer, no
//     answer in time) with a ClientOrderID is looked up at the next pass
//     by that id (Binance origClientOrderId, OKX clOrdId, Bybit
//     orderLinkId, Kraken cl_ord_id; at most 256 waiting): an order the
//     venue has is followed and reconciled like the others — as the
//     session's own, its fills of the window delivered, even when the
//     stream showed it first (Kraken's snapshot of open orders, a fill
//     since the subscription; the stream's report naming its client
//     order id makes it the session's own, so that an order that ends
//     on the stream before the lookup answers keeps its window's fills) —, one it does not have (-2013, 51603, in neither Bybit list, in neither Kraken
//     list) was never placed; of Kraken's closed orders sharing the id,
//     the newest (an order list that holds several orders without a
//     cl_ord_id is a bad answer, none of them taken). A lookup that fails
//     every try gets the gap marker above, the client order id in
//     Exec.ClientOrderID (Exec.VenueOrderID empty: not known), and is
//     tried again at the next pass. On Bybit,
//     orders go on the trade connection and the lookup waits for the
//     private connection's next subscription.
//
// Limits: an order placed elsewhere while no stream was subscribed and
// that ended before the next subscription is never seen; an order the
// session could not follow (TrackOverflow) is not reconciled, nor a Place
// of unknown outcome without a ClientOrderID: the pass after the next
// reconnect tells the host, once for them all, with the gap marker above
// naming no order (Reason "reconcile: orders not followed …"). OKX, Bybit, Kraken and Coinbase need
// Endpoints.REST (without it their reports are streamed only, not
// reconciled). The OKX and Coinbase open orders at the first subscription
// are their SPOT ones; orders of other instrument types are followed from
// the stream. Bybit's queries ask category spot (the session's orders):
// an order of another category seen on the all-in-one topics is not found
// by them, and gets a gap marker at every reconnect while it is followed
// (its reports are not reconciled). OKX fills older than 3 days
// are not read (/trade/fills-history is not used): an order that old with
// fills missed gets a gap marker (see above). Kraken: an order's fills
// are the trades its QueryOrders answer lists (trades=true); when that
// list is missing ("if … data available"), the account's TradesHistory
// between the order's opening and closing times, 50 a page (ofs), at most
// 10 pages (500 of the account's trades, 20 minutes of the default
// budget): fills beyond them get the gap marker of fills short; fees are
// in the quote asset (REST's "fee: total fee (quote currency)"); the open
// orders come from the executions channel's snap_orders snapshot, not
// REST, whose pair names ("XBTUSD") are not the channel's ("BTC/USD");
// snap_trades (the last 50 fills) is not asked for: REST is authoritative
// for what ended while away and has every fill. Coinbase orders are not
// placed by the session, so none has an unknown outcome to look up; an
// open order's fills in the window may reach the host from the new
// subscription's snapshot (one report of its growth, not Reconciled)
// before reconciliation asks.
//
// An execution report the parser refuses (a field it cannot read, a
// symbol its registry does not know: another category's order on Bybit's
// all-in-one topic) is announced by normalize's gap marker (GapType
// schema.EventExecReport, Reason "execution report refused: …"; at most
// one a second, see normalize "Refused execution reports"), which reaches
// the subscribers, and starts a pass as a gap in the connection's
// sequence does — at most one such pass per 30 s (refused.go), so that a
// venue that keeps sending reports the parser refuses does not restart
// reconciliation every second.
//
// # Lost market connections
//
// A lost market data connection (disconnected, reconnecting, closed other
// than by Close), and a rotation wsclient reports lossy
// (wsclient.ErrRotationDropped, wsclient.ErrRotationUnaligned: Reason
// "rotation: …", announced before the new connection's first message; a
// rotation whose streams joined loses nothing and is not announced), is
// announced once
// to every subscriber of its market data, whatever types it names: a
// schema.EventGap with Control.GapType schema.EventUnknown and GapSource
// schema.GapVenue, naming no symbol when the session has one market
// connection, else one per symbol of the lost connection (package dispatch
// routes a marker naming no type to every market data subscriber of the
// venue and symbol, and drops the coalescable events they have queued
// for it). The books' own markers and schema.EventConnState events come
// too (a book subscriber hears both: the book's marker names its stream,
// and is followed by a resynchronised snapshot). Not published for a
// connection that carries only book channels (the books' markers
// suffice). WaitConnected and the books' liveness are unaffected.
//
// # Refused market subscriptions
//
// A market request the venue refuses (a Binance SUBSCRIBE error, an OKX
// "error" event, Bybit's or Kraken v2's success:false, a Coinbase
// "error") is published (schema.ControlVenueError), counted
// (ConnStats.Refusals), returned by WaitConnected while the session is
// not ready, and asked again: the shard's connection is rotated
// make-before-break (every topic subscribed again; the others keep
// flowing) after a backoff on Client.Clock — 1 s doubling to 1 min for a
// refusal that may pass (a rate limit or a busy venue: OKX 60014, "too
// many requests"), 1 min doubling to 15 min for any other (an unknown
// symbol: OKX 60018), so none spins (ConnStats.RefusalRetries), each
// wait plus up to a quarter of itself at random (Client.Rand), so that
// shards refused at once do not rotate together (OKX takes 3 connection
// requests a second per IP). The refusal of an unsubscribe (the one a
// broken book's resubscription sends first: Bybit, Kraken and OKX answer
// it by its request id) is published only: nothing the connection streams is
// missing. The backoff starts again once a later connection's subscription is
// acknowledged (it subscribed every topic again), and a retry pending then
// is cancelled; a refusal read on a replaced connection after that is
// counted and asks for nothing (marketrefusal.go).
//
// # Lifecycle and ownership
//
// Start loads the instruments and the venue's time (Binance's REST), each
// call bounded by Config.RESTTimeout on Client.Clock (10 s by default; a
// long instrument list over a slow link may need more: Start fails with
// ErrRESTTimeout), then starts one goroutine per connection (wsclient's Run, with its own reader
// and event goroutines); the dispatcher starts one per subscription, the
// session's own Config.OnExecReport and Config.OnAccount subscriptions
// included; a market connection with Bybit or Coinbase books (OKX's
// without Endpoints.REST) has one more, which resubscribes broken books.
// Nothing else runs (but, on Client.Clock when they fire, with
// Config.BookMaxSilence a book's timer function, and after a private
// connection's rotation the end of its window for repeated reports).
// Close stops every connection, stops the rotation window's timer and
// waits, within its ctx, for one already fired to return (the error says
// when ctx ended first), closes the books (their timers stop), drains
// and closes the dispatcher, and shuts the
// pools down: its error names any pooled object not returned (the leak
// check), and [Session.Outstanding] is then 0. Events handed to
// subscribers are heap clones, theirs to keep, as dispatch says.
//
// # Venues
//
// Binance spot: market streams, books (snapshots from REST), instrument
// rules, WS-API orders and user data. Kraken v2, OKX v5, Bybit v5 and
// Coinbase Advanced Trade (Config.Venue): market data and, for OKX, Bybit
// and Coinbase, books. OKX no longer sends its books' initial snapshot
// (API changelog "Delist initial snapshot and checksum field in order
// book channels"): with Endpoints.REST an OKX book takes it from GET
// /api/v5/market/books, joined to the stream by seqId ("How to manage a
// local order book correctly"; book.OKXFetch, which still takes a stream
// snapshot with levels where one comes), and so resynchronises after a
// gap; the session's fetches share one book.OKXLimiter, inside OKX's 40
// requests per 2 s. Without Endpoints.REST, and on Bybit and Coinbase,
// books are kept from the venue's own snapshots. A book that
// breaks on a live connection (a sequence gap, a checksum mismatch, a
// crossed book) recovers by itself: the session unsubscribes and
// subscribes its channel for its symbol again on that connection (the
// venue answers with a snapshot; Bybit refuses a topic a connection
// already has, hence the unsubscribe; one still under way when that
// connection is lost is dropped, never written on the next connection,
// which subscribes the book again as it connects and brings the snapshot
// the book waits for; one whose connection a rotation replaced is made
// on the new connection), from a goroutine of the connection's, paced by the connection with every other message it
// sends (its subscriptions, heartbeats, pings; one pacer at its
// ControlRate, Config.Client) and, for OKX, within its budget of 480 subscription requests per
// connection per hour, less the connection's own subscription messages
// (ConnStats.Resubscribes, ResubscribeErrors). With Endpoints.REST their
// instrument rules are loaded too ([Session.Rules]).
//
// With Config.Key ([OKXKey], [BybitKey], [KrakenKey], [CoinbaseKey]) the
// session runs the venue's private WebSocket (Endpoints.API): on every
// (re)connect it authenticates anew with the venue's time — OKX's login
// (timestamp, HMAC), Bybit's auth (expires, HMAC), a Kraken WebSocket
// token fetched from REST, a Coinbase JWT made for each subscription (user, heartbeats) — and
// then subscribes the private channels: OKX orders, account, positions;
// Bybit order, execution, wallet, position; Kraken executions, balances;
// Coinbase user. Their execution reports reach Config.OnExecReport and
// their balances and positions Config.OnAccount, as Binance's do. A
// refusal (the venue's code and reason) is a [*LoginError] from
// WaitConnected, published as the venue's control event too, and tried
// again after a capped exponential backoff, never in a loop. A refused
// subscription is tried again alone, on the same connection (no second
// login; the subscriptions the venue took are not sent again: Bybit and
// Kraken refuse a channel a connection already has); its LoginError
// names it (Channel) and counts its refusals in a row (Attempts) while
// it stays refused, and orders wait until every subscription is taken. With
// Endpoints.REST the clock offset to the venue's server time is measured
// again before every login; without it, logins use Config.Now.
//
// # Orders by venue
//
// Place and Cancel keep the same contract on every venue that has them:
// the request checked (its fields, the instrument's rules from
// Endpoints.REST — but their trading status, which the list gave at Start
// and a venue changes without a word: the venue's refusal tells —, what
// the venue's operation can express) before
// anything is sent; a wait until every connection the order needs is
// logged in; the request sent on that logged-in connection only, with a
// request id of the session's; the venue's answer returned as an [Ack] or
// a [*VenueError] (its code and message), and published on the dispatcher
// (schema.EventOrderAck, or schema.EventControl of kind
// schema.ControlVenueError); [ErrDisconnected] for a request in flight
// when its connection is lost, [ErrBadAnswer] for an answer that cannot be
// read, ctx's error when it ends first, [ErrNoAnswer] (wrapped) for a
// request unanswered Config.OrderAnswerTimeout (30 s by default, on
// Config.Client.Clock) on a connection that stays up — outcome unknown,
// as after [ErrDisconnected]; that connection is then replaced
// make-before-break (a rotation, orders held until its switch): a venue's
// refusal that echoes no request id can answer the one order awaiting an
// answer on a connection, never one where an unanswered request's late
// answer may still come —, nothing sent when ctx had ended already.
// Execution reports still arrive from the private channels, on the
// critical lane. Stats().Order counts the requests.
//
// A refusal whose code says what kind it is wraps the [*VenueError] with
// that kind (errors.Is and errors.As both hold; the codes are listed on
// each error): [ErrRateLimited], over the venue's rate limits, not acted
// on: send again after VenueError.RetryAfter or a backoff;
// [ErrMaybeSent], the venue does not know whether it acted (Binance
// -1006, -1007 and 5xx, OKX 50004, Bybit 10000 and 10016, Kraken
// "EGeneral:Internal error"): as after [ErrDisconnected], a place with a
// ClientOrderID is looked up by it at the next reconnect's pass, and its
// execution reports tell meanwhile; [ErrOrderNotOpen], a cancel or amend
// of an order the venue does not have open (filled, canceled, expired or
// never placed: a cancel that raced a fill), its reports telling which.
// Any other refusal is about the request itself: sent again unchanged, it
// is refused again. A login or private subscription (Binance's user-data
// subscription included) the venue does not answer within 10 s is a
// [*LoginError] wrapping [ErrNoAnswer], tried again after the backoff.
//
//	venue     place / cancel                         on                                        source
//	Binance   order.place / order.cancel (signed)    WS-API (Endpoints.API)                   Binance spot WebSocket API, "Trading requests"
//	OKX       op "order" / "cancel-order"            the private WebSocket (Endpoints.API),   OKX v5 API, "Trade → WebSocket Place order",
//	                                                 after its login and subscriptions         "WebSocket Cancel order"
//	Bybit     op "order.create" / "order.cancel"     the trade WebSocket (Endpoints.Trade),   Bybit v5, "WebSocket Trade Guideline";
//	          (header X-BAPI-TIMESTAMP, RECV-WINDOW) its own auth; and the private WebSocket  args of REST "Place Order", "Cancel Order"
//	                                                 (Endpoints.API) logged in and subscribed
//	Kraken    add_order / cancel_order (method;      the authenticated WebSocket              Kraken "Spot WebSocket v2 → add_order",
//	          params carry the WebSocket token)      (Endpoints.API), after its private       "cancel_order"
//	                                                 subscriptions
//	Coinbase  not offered: Advanced Trade orders are REST only: ErrNoCredentials
//
// Order rates: OKX's 60 order requests per 2 seconds per instrument and
// operation ("WebSocket Place order", "WebSocket Cancel order": rate
// limit rule User ID + Instrument ID; 50011 over it) are counted before
// sending: a request over the rate waits, on Config.Client.Clock, until
// the span allows it, and returns [ErrNotSent] with ctx's error when ctx
// ends first (the count is this session's: another client of the account
// shares the venue's). Binance's unfilled order count (ORDERS) is not
// counted here: fills lower it at the venue ("Spot Unfilled Order Count
// Rules"), so only the venue's count is right; its -1015 refusal holds
// places back until retryAfter (above). Bybit's per-UID rates depend on
// the account; its 10006 refusal carries the reset time (RetryAfter).
//
// OKX: the answer's code and each order's sCode say whether it was
// accepted: code 0 with sCode 0 is an Ack; a non-zero sCode (code 0, 1 or
// 2 alike) is a [*VenueError] with sCode and sMsg, else with code and msg
// (60013 "Invalid args"). tdMode is cash for spot instruments (the
// session loads OKX's SPOT instruments, so its orders are spot); the
// encoder ([normalize.OKXOrders]) sends cross for derivatives. A spot
// market order's size is sent with tgtCcy (base_ccy for Qty, quote_ccy for
// QuoteQty), since OKX's default for a market buy is the quote currency.
//
// Bybit: retCode 0 is an Ack; any other is a [*VenueError] with retCode
// and retMsg. Orders need both connections: the trade connection places
// them, the private one brings their execution reports. Its auth is made
// anew with the venue's time on every connection, like the private one's;
// a refusal is a [*LoginError] of Step "trade login". Requests are stamped
// with the venue's time and Config.RecvWindow (Bybit refuses one outside
// server time − recvWindow ≤ timestamp < server time + 1 s). The session
// trades category spot (it loads Bybit's spot instruments); a spot market
// order's quantity is sent with marketUnit (baseCoin for Qty, quoteCoin for
// QuoteQty).
//
// On both, stop and take-profit orders (OKX algo orders, Bybit conditional
// orders) and TIF GTX (use PostOnly) are normalize.ErrUnsupported, and a
// client order id must keep to the venue's alphabet (OKX: 1–32 letters and
// digits; Bybit: 1–36 of letters, digits, - and _). An Ack says the venue
// took the request; the order's status (New, filled, rejected by the
// matching engine) comes with its execution reports.
//
// Kraken: success true is an Ack (VenueOrderID the answer's order_id,
// TransactTime its time_out); false is a [*VenueError] whose Msg is
// Kraken's error string ("EOrder:Insufficient funds", "EOrder:Unknown
// order", "EAPI:Invalid key") and whose Code is 0: Kraken's errors carry
// no number (their category is the text before the colon). Each request
// carries the WebSocket token the connection's private subscriptions were
// made with (fetched anew for every connection, see [KrakenKey]); the
// answers and the executions come on that one connection. Stop-loss and
// take-profit orders (and their -limit forms) are placed, with
// triggers {"reference":"last","price":StopPrice,"price_type":"static"};
// a market buy by QuoteQty is sent as cash_order_qty. TIF FOK (add_order
// has gtc, gtd and ioc), GTX (use PostOnly), reduce-only and a market sell
// by QuoteQty are normalize.ErrUnsupported. A client order id is a UUID
// (36 characters with hyphens, or 32 hex digits) or 1–18 printable ASCII
// characters (Kraken "Spot Client Order Identifiers"). A cancel names the
// order by VenueOrderID (order_id) or, without one, OrigClientOrderID
// (cl_ord_id), never both: Kraken takes one kind per request. Kraken's
// orders are reconciled like the others' (see "Execution reports across
// reconnects", with Endpoints.REST): a report missed while the connection
// is down is looked up, and an order whose Place returned ErrDisconnected
// is looked up by its cl_ord_id (OpenOrders, ClosedOrders) and its fills
// delivered with Execution.Reconciled set.
//
// # Cancel on disconnect
//
// The session arms no venue's cancel-on-disconnect ("dead man's
// switch"): orders stay working at the venue while a connection is down,
// and the session reconnects and reconciles their reports (above). What
// each venue offers, for a host that wants its orders cancelled when it
// goes silent: Kraken's cancel_all_orders_after (Spot WebSocket v2 and
// REST CancelAllOrdersAfter: a countdown the client must keep pushing
// back, every 15–30 s with a 60 s timeout as Kraken advises, that cancels
// every order of the account when it runs out; 0 disarms it); OKX's
// "Cancel All After" (REST POST /api/v5/trade/cancel-all-after, the same
// kind of countdown); Bybit's Disconnection Protection (DCP: enabled for
// the account by Bybit, its window set with POST
// /v5/order/disconnected-cancel-all, and triggered only for a private
// connection that subscribed the "dcp" topic, which the session does
// not: a session's disconnection cancels nothing); Binance spot has
// none (USDⓈ-M futures' countdownCancelAll is futures' only). A host that
// arms one must keep it pushed back itself, and know that a reconnect
// longer than its timeout cancels every order of the account: their
// cancels then arrive as the execution reports of the window.
//
// Endpoints are always given: [BinanceLive], [BinanceTestnet], a
// venue's public URL or a simulated venue's. The packages the session
// composes remain usable by hand.
package session
