// Package prometheus exposes Meltica's statistics to Prometheus: a
// [Collector] (a prometheus.Collector of github.com/prometheus/client_golang)
// reads the counters the packages already keep — pool.Stats,
// wsclient.Stats, normalize.Stats, book.Stats, dispatch.Stats,
// dispatch.MergedStats, merge.Stats, recorder.Stats and session.Stats —
// each time it is scraped, so the ingest path pays nothing
// for metrics: no counter is incremented twice, nothing is allocated per
// message.
//
// It lives in a module of its own (contrib/prometheus) so that
// client_golang and its dependencies never reach the go.mod of a host that
// does not use them.
//
// Wiring:
//
//	col := prometheus.New(nil)
//	col.AddPools(pools.Stats)
//	col.AddClient(schema.VenueBinance, "binance-md", client)
//	col.AddParser(schema.VenueBinance, "binance-md", parser)
//	col.AddBook(btcBook)
//	col.AddSubscription("strategy", sub)
//	// or, for a session.Session, everything it holds at once:
//	col.AddSession(schema.VenueBinance, "main", sess)
//	reg := prom.NewRegistry()
//	reg.MustRegister(col)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Metric names start with Options.Namespace ("meltica" by default), then the
// source (pool, ws, parser, book, subscription, merged_subscription,
// merger, recorder, session, orders); counters end in _total, times are in
// seconds, and every metric carries the labels naming its source (pool and
// type, venue and connection, venue and parser, venue and symbol,
// subscription, merger, recorder, venue and session). Label values come
// from the host (names, the books and sessions it adds), never from a
// venue message alone: the series are as many as the sources added, and
// Collector.Remove takes away a source that ended (a subscription
// unsubscribed, a session closed), so that they stay bounded. A
// test fails when a Stats struct gains a field the collector does not
// export. New lists them with their help text;
// scrape /metrics to see them all. A label value that is not UTF-8 (a
// symbol as a venue sent it) is exported with the bad bytes replaced by
// U+FFFD: client_golang would panic on it.
package prometheus
