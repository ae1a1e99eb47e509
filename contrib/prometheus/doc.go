// Package prometheus exposes Meltica's statistics to Prometheus: a
// [Collector] (a prometheus.Collector of github.com/prometheus/client_golang)
// reads the counters the packages already keep — pool.Stats,
// wsclient.Stats, normalize.Stats, book.Stats, dispatch.Stats and
// recorder.Stats — each time it is scraped, so the ingest path pays nothing
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
//	col.AddClient("binance-md", client)
//	col.AddParser(schema.VenueBinance, "binance-md", parser)
//	col.AddBook(btcBook)
//	col.AddSubscription("strategy", sub)
//	reg := prom.NewRegistry()
//	reg.MustRegister(col)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Metric names start with Options.Namespace ("meltica" by default); counters
// end in _total, times are in seconds. See the Metric* tables in
// collector.go or scrape /metrics for the list; every metric carries the
// labels naming its source (pool, venue, connection, parser, symbol,
// subscription, recorder).
package prometheus
