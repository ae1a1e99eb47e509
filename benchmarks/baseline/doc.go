// Package baseline is the "before upgrade" pipeline Meltica is measured
// against: gorilla/websocket reads that allocate per message, encoding/json
// into a fresh struct per message, no pools, and a channel send per
// subscriber. It produces the same canonical events as Meltica for the same
// Binance messages (a test checks it), so the benchmarks compare the same
// work done two ways. It lives in the benchmarks module, the one place the
// banned imports are allowed.
package baseline
