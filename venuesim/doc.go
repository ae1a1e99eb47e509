// Package venuesim is a simulated trading venue for tests, benchmarks, fault
// drills and offline demos, in the spirit of net/http/httptest: [Start] runs
// a real WebSocket and HTTP server on loopback that speaks Binance's spot
// formats.
//
//   - Market streams, raw (/ws/<stream>) and combined
//     (/stream?streams=a/b), for the configured symbols: trade, aggTrade,
//     bookTicker (when the best bid or ask changes), depth and
//     depth@100ms ("Diff. Depth Stream", "Update Speed: 1000ms or
//     100ms": each second, or each 100 ms, of the Clock the changes of
//     the interval in one diff, U its first update id and u its last,
//     each U the previous u + 1, a level changed twice sent once with
//     its last quantity; nothing when nothing changed), partial depth
//     (depth5, depth10, depth20, each also @100ms: "Partial Book Depth
//     Streams", the top levels of each side and lastUpdateId, pushed on
//     Binance's cadence of the Clock, every 1000 ms, or 100 ms for the
//     @100ms streams, the book moved or not, and formatted only while
//     somebody listens), ticker, miniTicker and
//     ticker_1h, ticker_4h, ticker_1d ("Individual Symbol Ticker
//     Streams", "Individual Symbol Mini Ticker Stream", "Individual
//     Symbol Rolling Window Statistics Streams", events 1hTicker, 4hTicker,
//     1dTicker: the statistics since the venue started, which is younger
//     than Binance's rolling windows, pushed every 1000 ms of the Clock,
//     "Update Speed: 1000ms", when the symbol traded in the second, E the
//     tick, formatted only while somebody listens) and kline of
//     every interval Binance lists (spot "WebSocket Streams",
//     "Kline/Candlestick chart intervals": 1s, 1m, 3m, 5m, 15m, 30m, 1h,
//     2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M), in UTC and in UTC+8
//     (<symbol>@kline_<interval>@+08:00, "Kline/Candlestick Streams with
//     timezone offset": the intervals open and close on UTC+8's clock, the
//     times stay Unix ms); 1w opens on Monday 00:00 and 1M on the 1st
//     00:00 of the stream's zone, 3d every third day from the Unix epoch's
//     (Binance does not say where). Candles go out on Binance's cadence
//     of the Clock, trade or not ("Update Speed: 1000ms for 1s, 2000ms
//     for the other intervals"): each push of a candle whose interval is
//     over closes it (x=true), and the next opens with no trade at its
//     close (O=H=L=C, volume 0, first and last trade id -1, as Binance
//     sends a candle with no trade) until its first trade opens it; the
//     1s streams send each second's candle closed (Binance's 1s pushes
//     come x=true; the doc does not say). A clock moved past several
//     intervals closes the last candle once and skips the empty ones; a
//     clock stepped back before a stream's open candle leaves the stream
//     quiet, and its candle without the trades of the earlier times,
//     until the clock is back in the candle's interval.
//     Only the kline streams somebody listens to are kept and sent: a
//     trade costs its symbol's subscribed intervals, and a stream
//     subscribed again opens its candle anew at the last price. The
//     all-market ticker arrays Binance spot lists, !miniTicker@arr,
//     !ticker@arr and !ticker_1h@arr, !ticker_4h@arr, !ticker_1d@arr
//     ("All Market Mini Tickers Stream", "All Market Tickers Stream", the
//     latter deprecated by the spot Changelog of 2025-11-14, still served,
//     "All Market Rolling Window Statistics Streams"; !bookTicker is
//     retired and refused), every 1000 ms of the Clock: an array of the
//     symbols that traded since the last push, each its own ticker
//     stream's payload, nothing when none did. Prices
//     are a seeded random walk, sent at a configured rate. Every stream a connection subscribed is sent apart
//     (depth and depth@100ms both).
//   - The SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS protocol with
//     Binance's acks and errors (request ids as Binance takes them, here
//     and on the WS-API: a 64-bit signed integer, a string matching
//     ^[a-zA-Z0-9-_]{1,36}$, or null; the WS-API answers another with
//     -1135; a symbol it does not list subscribed with success and never
//     served, as Binance answers it; a stream name not well formed
//     "Invalid request: invalid stream"; at most 1024 streams a
//     connection, Binance's limit: a SUBSCRIBE past it is refused whole,
//     code 2, and a URL naming more refused at the upgrade, HTTP 400 —
//     Binance does not say how it refuses), and server pings every 20 s
//     with a minute for the pong, past which the connection is dropped
//     (Options.PingInterval and Options.PongWait: USDⓈ-M futures' 3
//     minutes and 10);
//     a connection that sends more than 5 messages a second (pings and
//     pongs counted, as Binance counts them) is closed (1008), as Binance
//     closes it (Options.IncomingLimit); with Options.ConnectLimit (Binance:
//     300 connections every 5 minutes per IP, the streams' and the
//     WS-API's counted apart) a handshake past it is refused with HTTP
//     429 and a Retry-After.
//   - The REST depth snapshot (/api/v3/depth), consistent with the diff
//     stream, /api/v3/exchangeInfo for the symbol registry with each
//     symbol's PRICE_FILTER, LOT_SIZE and NOTIONAL filters, precisions and
//     order types, and the rateLimits the WS-API reports, and
//     /api/v3/time.
//   - The WS-API (/ws-api/v3): method names bare or with their version
//     ("v3/order.place", as Binance takes them); order.place and
//     order.cancel, validated
//     with the codes of Binance's errors.md (filters -1013, side -1117,
//     timeInForce -1115 or -1106, a quantity or price of zero -1013
//     "Invalid quantity." / "Invalid price.", a decimal outside the legal range
//     ^([0-9]{1,20})(\.[0-9]{1,20})?$ -1100 (a sign, an exponent), a
//     client order id outside spot's ^[a-zA-Z0-9-_]{1,36}$ (dots, colons
//     and slashes are futures' only), or an orderId outside
//     ^[0-9]{1,20}$ -1100,
//     precision -1111, a client order id an
//     open order of the symbol holds -2010 "Duplicate order sent."), with
//     Binance's error shape for bad orders; MARKET orders by quantity or
//     by quote amount (quoteOrderQty: the quantity the amount takes
//     walking the levels, each at its price, so that it spends or
//     receives no more than the amount); answers in the format
//     newOrderRespType asks (MARKET and LIMIT FULL by default: a
//     marketable order with its fills and status; other types ACK); a
//     marketable order takes the book's liquidity, as the venue's
//     matching does: the levels of the other side from the best, each
//     up to its quantity and at its price, no worse than a LIMIT order's
//     price (a take within one level in two fills, a partial, then the
//     rest), the levels taken gone from the book, the REST snapshot, the
//     bookTicker and the next batched depth diff, OKX's books, bbo-tbt
//     and tickers alike; what the book cannot give at once a FOK order
//     takes none of and expires, an IOC or MARKET order expires with,
//     and a GTC order rests with (spot "Enums", "Order status":
//     EXPIRED); a side a walk emptied has no best level until the
//     generator refills it (Binance does not say what its bookTicker then
//     shows: here price and quantity 0, and OKX's bbo-tbt no level):
//     nothing trades, takes or fills a resting order against it, and a
//     LIMIT_MAKER order at its price rests; an order worth more than
//     Options.Balance is refused, a MARKET order's worth what its walk
//     takes, each level at its price; a LIMIT IOC or FOK order that
//     cannot fill at once expires instead of resting; order.cancel
//     honours cancelRestrictions (ONLY_NEW, ONLY_PARTIALLY_FILLED: an
//     order in another status stays, -2011 "Order was not canceled due to
//     cancel restrictions."; another value -1145 "Invalid
//     cancelRestrictions") and answers
//     with the order's id in origClientOrderId and the cancel's own in
//     clientOrderId, as the CANCELED report does in "C" and "c";
//     order.cancelReplace ("Cancel and replace order") cancels as
//     order.cancel and places as order.place, the new order not tried
//     when cancelReplaceMode is STOP_ON_FAILURE and the cancel failed
//     (counted in the unfilled order count all the same): 200 when both
//     succeed, 409 -2021 when one failed, 400 -2022 when both or the
//     cancel under STOP_ON_FAILURE did, error.data's cancelResult,
//     newOrderResult (NOT_ATTEMPTED), cancelResponse and
//     newOrderResponse (null when not tried), a cancel that succeeded
//     kept ("not transactional"); reject
//     reasons as Binance spells them (INSUFFICIENT_BALANCES,
//     WOULD_MATCH_IMMEDIATELY); every fill printed on the market
//     streams, as every trade is ("Trade Streams": t the
//     executionReport's t, m the buyer's side as maker or taker;
//     "Aggregate Trade Streams": a taker order's fills at one price in
//     one aggregate, f to l; OKX's trades, tradeId the same) and counted in
//     the candles and tickers; and executionReport events on the user-data stream
//     (userDataStream.subscribe and .signature, recorded:
//     [Venue.UserDataSubscriptions]; each subscription of a connection
//     numbered from 0 in subscriptionId, its events naming it, as
//     Binance numbers a session's; one per connection, a second
//     refused with -2035 "User Data Stream subscription already active."
//     while the first stays, as Binance allows one per account and
//     connection (spot "Error codes" -2035 SUBSCRIPTION_ACTIVE);
//     userDataStream.unsubscribe with or without one, an ended
//     subscription followed by its eventStreamTerminated): new, partial
//     fills, filled, canceled, rejected, each on every subscription of
//     the account, whichever connection placed the order; a resting
//     order's reports follow the account's open subscription. With Options.APISecret, signed requests are checked:
//     key, signature, and timestamp within recvWindow (-1021; the
//     timestamp in milliseconds or microseconds, recvWindow with up to
//     three decimals, as Binance takes them).
//   - Every WS-API answer, success or error, carries Binance's
//     rateLimits ("included with every response by default"):
//     REQUEST_WEIGHT per minute (6000; the methods' documented weights,
//     2 for connecting, IP wide: the venue's), and on order.place the
//     ORDERS limits of 10 s (50) and a day (160000), each interval
//     counted from its boundary, of unfilled orders (spot "Unfilled Order
//     Count Rules": an order's first fill takes it off the current
//     intervals' counts, never below 0); returnRateLimits=false in the request
//     or the connection's URL leaves it out (true in a request brings it
//     back). The limits are reported, and with Options.EnforceRateLimits
//     enforced (429: -1003 past the weight, -1015 past the orders). REST
//     requests weigh as documented in the same IP minute (depth 5 to
//     250 by limit, exchangeInfo 20, time 1; "The WebSocket API shares
//     the same filters and rate limits as the REST API", spot Changelog
//     2022-12-15), each answer with X-MBX-USED-WEIGHT-1M, and past the
//     weight 429 with Retry-After.
//   - IP bans past 429 (Options.Bans, [Bans]): an IP that earns another
//     429 before an earlier one's retry time is banned ("LIMITS": "an
//     automated IP ban (HTTP status 418)", "from 2 minutes to 3 days"):
//     that request is answered 418, -1003 "Way too much request weight
//     used; IP banned until <ms>. ..." (on the WS-API with error.data's
//     serverTime and retryAfter, the ban's end), every WS-API connection
//     of the IP is closed (1008, "you will be disconnected"), and until
//     the ban is over its REST requests and its handshakes, the streams'
//     and the WS-API's, get 418 with Retry-After; each ban of an IP
//     lasts the next of the configured durations.
//   - The WS-API's queries, answered from the matching state in Binance's
//     shapes: order.status (-2013 for an unknown order), myTrades (by
//     orderId, fromId, limit) and openOrders.status. Every accepted order
//     and its fills are kept for the venue's life. [Venue.FailQueries]
//     refuses the next n queries as the weight limit does (429, -1003,
//     error.data with serverTime and retryAfter, the next minute).
//   - Fills and cancels the user-data stream misses: [Venue.HoldUserData]
//     holds the user-data subscriptions of reconnecting clients
//     unanswered, and [Venue.FillOrder] and [Venue.EndOrder] fill, cancel or
//     expire a resting order meanwhile; their reports are lost, as on
//     Binance, and only the queries tell.
//     [Venue.HoldQueries] holds the queries (the stream may then deliver
//     first), [Venue.ResendFill] repeats a fill's report (a venue that
//     delivers at least once), and [Venue.DropNextPlace] takes an order
//     and drops the connection before its answer.
//   - Our resting orders in the public book, as a venue shows every
//     resting order (Binance "Diff. Depth Stream", "Order Book"; OKX
//     "Order book channel": a level's quantity is all the orders at its
//     price): a level's quantity is the generator's there plus what our
//     resting orders of that side and price have left, at prices off the
//     generator's levels too, in the REST snapshot, the batched diffs,
//     the partial books, OKX's books (GET and channel, checksum
//     included), the bookTicker, OKX's bbo-tbt and the tickers; an order
//     that rests, fills, or is canceled or expired is an update of the
//     book (an update id) whose level goes out in the next diff, and the
//     bookTicker at once when the top changed. A taker's walk and the
//     generator's trades take the generator's liquidity only, and a
//     resting order fills when the generator's other side reaches its
//     price.
//   - Self-trade prevention, as Binance spot's STP ("Self Trade
//     Prevention (STP) FAQ"; every order is one account's, so our orders
//     never trade with each other): selfTradePreventionMode EXPIRE_TAKER,
//     EXPIRE_MAKER (the default, as exchangeInfo's
//     defaultSelfTradePreventionMode says) or EXPIRE_BOTH, another -1013
//     "This symbol does not allow the specified self-trade prevention
//     mode." (NONE, DECREMENT and TRANSFER too: the simulated symbols'
//     allowedSelfTradePreventionModes lack them, and a venue refuses a
//     mode its symbol does not allow). A taker's walk goes
//     over the public book, our resting orders in it wherever they are
//     (a price better than the generator's best, or past its last level),
//     and an order that reaches only ours crosses (LIMIT_MAKER: "would
//     immediately match"). Meeting our resting order of the other side
//     (at its level after the generator's quantity there) prevents the
//     match by the taker's mode:
//     the maker expires and the walk goes on, the taker's rest expires,
//     or both; an expired order's status is EXPIRED_IN_MATCH, its
//     executionReport TRADE_PREVENTION with v (preventedMatchId, per
//     symbol from 0), U (the other order's id), A and B (its prevented
//     quantity), its answers preventedMatchId and preventedQuantity, and
//     the taker's FULL answer lists preventedMatches; every report's V is
//     the order's mode. myPreventedMatches (WS-API "Account prevented
//     matches") lists them by symbol+preventedMatchId (weight 2) or
//     symbol+orderId (weight 20; fromPreventedMatchId, limit), another
//     combination -1128; tradeGroupId is 1.
//   - A simulated account: resting orders lock funds, fills move them,
//     cancels release them, each change followed on every user-data
//     subscription, as its reports are, by an outboundAccountPosition of
//     the symbol's two assets;
//     [Venue.Deposit] sends a balanceUpdate, [Venue.Balance] reads the
//     account.
//   - Faults on demand ([Venue.Inject]): close, TCP reset, stall, stop
//     answering pings, garbage frames, an oversized frame, a sequence gap in
//     the depth stream, Binance's serverShutdown notice; a maximum
//     connection age (24 h by default, as Binance cuts every connection,
//     streams' and WS-API's, at 24 h: Options.MaxConnAge); and for the WS-API connections [Venue.CloseAPI] and
//     [Venue.ShutdownAPI] (the WS-API's own serverShutdown event,
//     {"event":{"e":"serverShutdown","E":<ms>}}).
//
// A second venue, OKX v5 public market data, on the same market
// ([Venue.OKXURL], /ws/v5/public; OKX API v5 "WebSocket Public Channel",
// "Order book channel", "Trades channel", "Tickers channel"): the
// subscribe and unsubscribe ops answered per arg ({"event":"subscribe",
// "arg":{…},"connId":…}, led by the request's "id" when it has one, as
// every answer to it), a request not understood 60012 "Invalid
// request: …", an op other than those 60019 "Invalid op: …", a channel or instId the venue lacks 60018 "Wrong URL or
// channel:…,instId:… doesn't exist. …"; channels books (as OKX serves
// it today, no snapshot on the stream and every checksum 0 — the book is
// GET /api/v5/market/books' —, only updates of the levels changed in each
// 100 ms of the clock, batched as OKX batches them ("Incremental data
// will be pushed every 100 ms for the changes in the order book during
// that period of time"), seqId
// and prevSeqId chained — FaultDepthGap breaks the chain; after 60 s of
// the clock without a change, paused or not, the keep-alive: an update
// with no levels, seqId the last and prevSeqId equal to it; with
// Options.OKXBooks, as OKX served it before the delisting, a snapshot of
// every level first and in each push the CRC32 checksum of the top 25
// levels a side, "bid:size:ask:size:…", as a signed 32-bit integer, or
// the transition's empty snapshot), bbo-tbt (every 10 ms of the clock
// when the best bid or ask changed: "pushed every 10 ms when there are
// changes in the 1 depth level snapshot"), trades (the WS-API's fills
// too: a taker order's fills at one price in one push, sz their sum,
// count their number, tradeId the last's, the executionReport's t;
// "Trades channel": "The message is sent only once per taker order,
// filled price, source. The count field is used to represent the number
// of aggregated matches", tradeId "The last trade ID in the trades
// aggregation"; source "0", a normal order's, and seqId a number
// counting the instrument's pushes from 1: OKX says only "Sequence ID of
// the current message") and tickers (every 100 ms of
// the clock after a trade or a change of the top: "The fastest rate is 1
// update/100ms", "trade, the change on best ask/bid"; the day's open,
// high, low and volumes are the minute candle's) for each symbol as its
// instId (BTCUSDT: BTC-USDT); at most 480 subscribe and unsubscribe
// requests a connection an hour of the clock, one more refused with
// 60014 "Requests too frequent." (Options.OKXRequestLimit; "WebSocket",
// "Connect"); with Options.OKXConnectLimit, at most that many connects
// an IP a second of the clock ("Connection limit: 3 requests per second
// (based on IP)"), one more refused with HTTP 429, code 50011; the text
// "ping" answered "pong"; no server
// pings, and a connection nothing was pushed to for 30 s of the clock is
// closed with 4004 ("data has not been pushed for more than 30 seconds");
// FaultServerShutdown sends OKX's notice {"event":"notice",
// "code":"64008",…}; GET /api/v5/market/books ("Get order book") serves
// the book at the stream's seqId, 40 requests per 2 s of the clock per
// IP (Options.OKXBooksLimit), one more HTTP 429, code 50011. Prices carry
// eight decimals, as the Binance side's.
//
// Every time-based behaviour (the generator's rate and event times, server
// pings and the pong wait, OKX's 30 s idle cut, MaxConnAge,
// IncomingLimit's second, Options.Bans' bans, ConnectLimit's window, the WS-API's rate-limit intervals, recvWindow and
// every serverTime) runs on Options.Clock, the system clock by default: a
// test moves a fake clock to meet a limit instead of waiting for it. A
// clock stepped back (a fake one; the system clock's readings are
// monotonic) neither stalls the generator nor cuts a connection for it:
// the rate and IncomingLimit's second go on from the new time, a
// ConnectLimit admission counts for at most the window from the step,
// OKX's 30 s idle cut and books keep-alive count from the step, and a
// ban lasts at most its duration from the step (a 429 before the step
// earns no strike).
//
// A Venue is safe for concurrent use. Close stops every goroutine it started.
package venuesim
