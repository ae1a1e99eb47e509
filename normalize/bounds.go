package normalize

// Bounds on what a parser keeps per stream.
//
// A parser keeps state per stream it meets — quote marks (quotes.go),
// trade marks (trades.go), book continuity (parser.go), Bybit ticker
// bases, Kraken book depths, streams marked stale (stale.go) — keyed by
// the symbol the venue sends. A venue or a peer that sends ever new symbol
// names (a million "XYZnUSDT") would grow each map without end: each holds
// at most maxStreams keys. A stream met once a map is full is not
// followed, and the message is counted (Stats.Untracked):
//
//   - a quote or a trade is delivered without the repeat check (a repeat
//     may then pass; a fresh one is never dropped);
//   - a Bybit ticker snapshot is delivered but not kept as its deltas'
//     base (they fail with ErrNoSnapshot, as before any snapshot);
//   - a book message is dropped with ErrTooManyStreams: a diff whose
//     sequence is not checked would serve a broken book silently;
//   - a dropped quote's stream is not marked stale;
//   - a Kraken book depth is not remembered (its view reads 0).
//
// Streams already followed keep their state: a flood of new names cannot
// evict them. The private order maps have bounds of their own
// (maxBybitOrders, maxCoinbaseOrders, maxRecentFills), the symbol
// registry's fallback cache maxFallbackCache, interned texts maxReasons.
// The check is a map length: no allocation.

// maxStreams is how many keys each per-stream map of a parser holds: far
// above a connection's real streams (Binance allows 1,024 streams a
// connection; an all-market stream of every Binance symbol is ~3,000),
// and at most a few MB a map.
const maxStreams = 1 << 16

// room reports whether a per-stream map of n keys may take a new one,
// counting the message as untracked when it may not.
func (e *emitter) room(n int) bool {
	if n < e.streams {
		return true
	}
	e.stats.untracked.Add(1)
	return false
}
