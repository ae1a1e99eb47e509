// Package book keeps L2 order books that know when they are wrong.
//
// A [Book] holds the bids and asks of one (venue, symbol), built from the
// venue's canonical book events (schema.EventBookSnapshot and
// schema.EventBookUpdate, as the normalize parsers make them) by the
// venue's [Rule]: how messages chain (Binance U/u against the REST
// snapshot's lastUpdateId, OKX prevSeqId/seqId, Bybit u), which checksum
// the venue sends (OKX over 25 levels, Kraken over 10, CRC32 of the wire
// digits that schema.Decimal keeps) and how to get a new snapshot (fetch
// one through a [Fetcher], or resubscribe). The rules are data: [Binance],
// [OKX], [KrakenV1], [KrakenV2], [Bybit], [Coinbase].
//
// # When the book is wrong
//
// A diff that does not continue the last one, a checksum that does not
// match, sides that cross, a gap marker from upstream or a lost connection
// (schema.EventConnState) make the book invalid: it drops every level at
// once — nothing stale survives a resync — publishes a gap marker (an
// schema.EventGap with Control.Kind schema.ControlGap and one of the
// Reason* texts) to its [Sink], and resynchronises by itself: a
// ResyncFetch book buffers diffs and fetches a snapshot (a bounded number
// of attempts, then not again before Options.RetryInterval), a
// ResyncResubscribe book calls Options.Resubscribe and waits for the
// snapshot the venue answers with. A marker goes out once per breakage,
// not once per message, and every step is counted in [Stats].
//
// # What it publishes
//
// Every change of the best bid or offer is published as a pooled
// schema.EventBBO (coalescable: a slow subscriber sees the latest);
// [Book.Top] and [Book.PublishTop] give the best N levels on request.
//
// # Wiring
//
// [Books] is a [Sink] to put between a parser and the dispatcher: it
// applies each event to its book and hands it on, so the host's
// subscribers see the venue's diffs, the books' best bid/offer and the
// gap markers on one dispatcher:
//
//	books := book.NewBooks(dispatcher, pools.Events, nil)
//	b, _ := book.NewBook(book.Binance, "BTC-USDT", &book.Options{
//		Sink: dispatcher, Events: pools.Events,
//		Fetcher: &book.BinanceREST{BaseURL: "https://api.binance.com"},
//	})
//	books.Add(b)
//	parser := normalize.NewBinance(pools.Events, books, nil)
//
// # Cost
//
// Each side is a slice sorted by price, best last, keyed by
// schema.Decimal: no map, no allocation per level once the slices have
// grown, so a diff costs no allocation in steady state
// (TestZeroAllocsPerDiff) and a change near the top moves few levels.
//
// A fetch runs on the goroutine that applies events (the connection's
// reader, with the usual wiring), holding the book: the stream waits in
// the socket meanwhile, which is the buffering Binance asks for. The
// package starts no goroutine.
package book
