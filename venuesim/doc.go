// Package venuesim is a simulated trading venue for tests, benchmarks, fault
// drills and offline demos, in the spirit of net/http/httptest: [Start] runs
// a real WebSocket and HTTP server on loopback that speaks Binance's spot
// formats.
//
//   - Market streams, raw (/ws/<stream>) and combined
//     (/stream?streams=a/b), for the configured symbols: trade, aggTrade,
//     bookTicker, depth (diffs with correct U/u sequencing) and kline; prices
//     are a seeded random walk, sent at a configured rate.
//   - The SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS protocol with
//     Binance's acks and errors, and server pings every 20 s (configurable).
//   - The REST depth snapshot (/api/v3/depth), consistent with the diff
//     stream, and /api/v3/exchangeInfo for the symbol registry.
//   - The WS-API (/ws-api/v3): order.place and order.cancel, validated, with
//     Binance's error shape for bad orders, and executionReport events on the
//     user-data stream (userDataStream.subscribe): new, partial fills, filled,
//     canceled, rejected.
//   - Faults on demand ([Venue.Inject]): close, TCP reset, stall, stop
//     answering pings, garbage frames, an oversized frame, a sequence gap in
//     the depth stream; and a maximum connection age.
//
// A Venue is safe for concurrent use. Close stops every goroutine it started.
package venuesim
