package prometheus

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// Options configure a Collector. A nil *Options gives the defaults.
type Options struct {
	// Namespace prefixes every metric name. Defaults to "meltica".
	Namespace string
	// ConstLabels are added to every metric (a service or host name).
	// Defaults to none.
	ConstLabels prom.Labels
}

// Sources of statistics: the Stats method of each Meltica type.
type (
	// ClientStats is a *wsclient.Client.
	ClientStats interface{ Stats() wsclient.Stats }
	// ParserStats is any normalize venue parser.
	ParserStats interface{ Stats() normalize.Stats }
	// RecorderStats is a *recorder.Recorder.
	RecorderStats interface{ Stats() recorder.Stats }
	// MergedStats is a *dispatch.MergedSubscription.
	MergedStats interface{ Stats() dispatch.MergedStats }
	// MergerStats is a *merge.Merger.
	MergerStats interface{ Stats() merge.Stats }
	// SessionStats is a *session.Session.
	SessionStats interface{ Stats() session.Stats }
)

// Collector is a prometheus.Collector over Meltica's statistics. Add the
// sources, register it once. It is safe for concurrent use: sources may be
// added while it is being scraped. The zero value is not usable: make it
// with New.
type Collector struct {
	pools   *family[pool.Stats]
	clients *family[wsclient.Stats]
	recon   *prom.Desc
	up      *prom.Desc
	parsers *family[normalize.Stats]
	books   *family[book.Stats]
	live    *prom.Desc
	subs    *family[dispatch.Stats]
	recs    *family[recorder.Stats]
	merged  *family[dispatch.MergedStats]
	mergers *family[merge.Stats]
	conns   *family[session.ConnStats]
	orders  *family[session.OrderStats]
	sess    *family[session.Stats]

	mu        sync.Mutex
	poolSrcs  []func() []pool.Stats
	clientSrc []source[ClientStats]
	parserSrc []source[ParserStats]
	bookSrc   []func() []*book.Book
	subSrc    []source[*dispatch.Subscription]
	recSrc    []source[RecorderStats]
	mergedSrc []source[MergedStats]
	mergerSrc []source[MergerStats]
	sessSrc   []source[SessionStats]
}

type source[T any] struct {
	labels []string
	src    T
}

// metric is one value read from a statistics struct S.
type metric[S any] struct {
	name, help string
	typ        prom.ValueType
	val        func(*S) float64
	max        bool // sources with the same labels are combined by max, not sum
}

// series gathers one scrape's values before they are sent, so that two
// sources with the same label values (two schema.Pools of one process, a
// name given twice) make one series — summed, or the max for peaks and
// times — instead of a duplicate that fails the whole scrape.
type series struct {
	index map[string]int
	list  []seriesValue
}

type seriesValue struct {
	desc   *prom.Desc
	typ    prom.ValueType
	val    float64
	labels []string
}

func (s *series) add(desc *prom.Desc, typ prom.ValueType, max bool, val float64, labels ...string) {
	vals := make([]string, len(labels))
	for i, l := range labels {
		// client_golang panics on a label value that is not UTF-8 (in the
		// registry's goroutine: the process would end). Values that differ
		// only in such bytes make one series.
		vals[i] = strings.ToValidUTF8(l, "\uFFFD")
	}
	key := fmt.Sprintf("%p\xff%s", desc, strings.Join(vals, "\xff"))
	if i, ok := s.index[key]; ok {
		if !max {
			s.list[i].val += val
		} else if val > s.list[i].val {
			s.list[i].val = val
		}
		return
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[key] = len(s.list)
	s.list = append(s.list, seriesValue{desc, typ, val, vals})
}

func (s *series) send(ch chan<- prom.Metric) {
	for _, v := range s.list {
		ch <- prom.MustNewConstMetric(v.desc, v.typ, v.val, v.labels...)
	}
}

// family is the metrics of one kind of source, sharing their labels.
type family[S any] struct {
	descs   []*prom.Desc
	metrics []metric[S]
}

func newFamily[S any](o *Options, sub string, labels []string, ms []metric[S]) *family[S] {
	f := &family[S]{metrics: ms}
	for _, m := range ms {
		f.descs = append(f.descs, prom.NewDesc(prom.BuildFQName(o.Namespace, sub, m.name), m.help, labels, o.ConstLabels))
	}
	return f
}

func (f *family[S]) describe(ch chan<- *prom.Desc) {
	for _, d := range f.descs {
		ch <- d
	}
}

func (f *family[S]) collect(out *series, s *S, labels ...string) {
	for i, m := range f.metrics {
		out.add(f.descs[i], m.typ, m.max, m.val(s), labels...)
	}
}

func counter[S any](name, help string, val func(*S) uint64) metric[S] {
	return metric[S]{name: name + "_total", help: help, typ: prom.CounterValue, val: func(s *S) float64 { return float64(val(s)) }}
}

func gauge[S any](name, help string, val func(*S) float64) metric[S] {
	return metric[S]{name: name, help: help, typ: prom.GaugeValue, val: val}
}

// peak is a gauge that sources sharing labels combine by max.
func peak[S any](name, help string, val func(*S) float64) metric[S] {
	return metric[S]{name: name, help: help, typ: prom.GaugeValue, val: val, max: true}
}

// New returns a Collector with no source yet.
func New(opts *Options) *Collector {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Namespace == "" {
		o.Namespace = "meltica"
	}
	ns := func(sub, name string) string { return prom.BuildFQName(o.Namespace, sub, name) }
	return &Collector{
		pools: newFamily(&o, "pool", []string{"pool", "type"}, []metric[pool.Stats]{
			counter("gets", "Objects taken from the pool (Get and TryGet).", func(s *pool.Stats) uint64 { return s.Gets }),
			counter("puts", "Objects returned to the pool.", func(s *pool.Stats) uint64 { return s.Puts }),
			counter("created", "Objects made by the pool's constructor.", func(s *pool.Stats) uint64 { return s.Created }),
			counter("waits", "Gets that found the pool exhausted and waited.", func(s *pool.Stats) uint64 { return s.Waits }),
			counter("exhausted", "Gets that gave up and TryGets that failed.", func(s *pool.Stats) uint64 { return s.Exhausted }),
			gauge("in_use", "Objects checked out now.", func(s *pool.Stats) float64 { return float64(s.InUse) }),
			peak("peak_in_use", "Most objects checked out at once so far.", func(s *pool.Stats) float64 { return float64(s.PeakInUse) }),
			gauge("capacity", "Most objects the pool lets out at once.", func(s *pool.Stats) float64 { return float64(s.Capacity) }),
		}),
		clients: newFamily(&o, "ws", []string{"venue", "connection"}, []metric[wsclient.Stats]{
			counter("messages", "Messages delivered to the frame handler.", func(s *wsclient.Stats) uint64 { return s.Messages }),
			counter("bytes", "Bytes of those messages.", func(s *wsclient.Stats) uint64 { return s.Bytes }),
			counter("rotations", "Completed make-before-break rotations.", func(s *wsclient.Stats) uint64 { return s.Rotations }),
			counter("oversized", "Messages over the read limit.", func(s *wsclient.Stats) uint64 { return s.Oversized }),
			counter("invalid_frames", "Text messages that were not UTF-8.", func(s *wsclient.Stats) uint64 { return s.InvalidFrames }),
			counter("handler_errors", "Errors returned by the frame handler.", func(s *wsclient.Stats) uint64 { return s.HandlerErrors }),
			counter("events_dropped", "State events lost to a full queue.", func(s *wsclient.Stats) uint64 { return s.EventsDropped }),
			counter("on_event_panics", "OnEvent calls that panicked (recovered) or called runtime.Goexit.", func(s *wsclient.Stats) uint64 { return s.OnEventPanics }),
			counter("unaligned", "Rotations that switched without aligning the streams: messages around the switch may repeat or be missing.", func(s *wsclient.Stats) uint64 { return s.Unaligned }),
			counter("rotation_dropped", "Frames of rotations' new connections, from before the join, that the old connection never delivered and the handler never saw.", func(s *wsclient.Stats) uint64 { return s.RotationDropped }),
			counter("pool_waits", "Times a reader found the frame pool exhausted and waited, reading nothing meanwhile.", func(s *wsclient.Stats) uint64 { return s.PoolWaits }),
			peak("last_message_timestamp_seconds", "Receive time of the latest message, Unix seconds; 0 if none.", func(s *wsclient.Stats) float64 {
				if s.LastMessage.IsZero() {
					return 0
				}
				return float64(s.LastMessage.UnixNano()) / 1e9
			}),
			peak("ping_rtt_seconds", "Round trip of the latest ping.", func(s *wsclient.Stats) float64 { return s.PingRTT.Seconds() }),
		}),
		recon: prom.NewDesc(ns("ws", "reconnects_total"), "Connections lost (and failed dials, reason dial), by reason.",
			[]string{"venue", "connection", "reason"}, o.ConstLabels),
		up: prom.NewDesc(ns("ws", "up"), "1 when the connection is connected, 0 otherwise.",
			[]string{"venue", "connection"}, o.ConstLabels),
		parsers: newFamily(&o, "parser", []string{"venue", "parser"}, []metric[normalize.Stats]{
			counter("messages", "Venue messages seen, after envelope splitting.", func(s *normalize.Stats) uint64 { return s.Messages }),
			counter("events", "Events handed to the sink.", func(s *normalize.Stats) uint64 { return s.Events }),
			counter("errors", "Messages dropped with a parse error.", func(s *normalize.Stats) uint64 { return s.Errors }),
			counter("unknown", "Messages of a type the parser does not know.", func(s *normalize.Stats) uint64 { return s.Unknown }),
			counter("ignored", "Messages of a known type that carry nothing the schema holds, skipped.", func(s *normalize.Stats) uint64 { return s.Ignored }),
			counter("repeats", "Messages dropped as repeats their stream already covered (book diffs, trades, fills).", func(s *normalize.Stats) uint64 { return s.Repeats }),
			counter("panics", "Decoder panics recovered at the parser boundary (also counted in errors).", func(s *normalize.Stats) uint64 { return s.Panics }),
			counter("untracked", "Messages of streams past a parser's per-stream bound (delivered unchecked, or book messages refused).", func(s *normalize.Stats) uint64 { return s.Untracked }),
			counter("control", "Control events (acks, venue errors).", func(s *normalize.Stats) uint64 { return s.Control }),
			counter("gaps", "Gap events (sequence breaks, dropped ordered events).", func(s *normalize.Stats) uint64 { return s.Gaps }),
			counter("dropped", "Events not emitted: pool exhausted or ctx ended.", func(s *normalize.Stats) uint64 { return s.Dropped }),
			counter("sink_errors", "Publish calls that returned an error.", func(s *normalize.Stats) uint64 { return s.SinkErrors }),
		}),
		books: newFamily(&o, "book", []string{"venue", "symbol"}, []metric[book.Stats]{
			counter("applied", "Diffs applied.", func(s *book.Stats) uint64 { return s.Applied }),
			counter("snapshots", "Snapshots applied.", func(s *book.Stats) uint64 { return s.Snapshots }),
			counter("stale", "Diffs dropped as already covered.", func(s *book.Stats) uint64 { return s.Stale }),
			counter("restarts", "Messages that restarted the venue's numbering (Bybit u = 1), applied as snapshots.", func(s *book.Stats) uint64 { return s.Restarts }),
			counter("checksums", "Venue checksums verified (a placeholder 0 is not one).", func(s *book.Stats) uint64 { return s.Checksums }),
			counter("after_loss", "Book messages and venue quotes of a lost connection's tail, dropped.", func(s *book.Stats) uint64 { return s.AfterLoss }),
			counter("waiting", "Diffs dropped while waiting for a resubscribed snapshot.", func(s *book.Stats) uint64 { return s.Waiting }),
			counter("buffered", "Diffs buffered while waiting for a fetched snapshot.", func(s *book.Stats) uint64 { return s.Buffered }),
			counter("overflowed", "Buffered diffs dropped past the buffer bound.", func(s *book.Stats) uint64 { return s.Overflowed }),
			counter("gaps", "Sequence breaks seen.", func(s *book.Stats) uint64 { return s.Gaps }),
			counter("checksum_errors", "Venue checksums that did not match the book.", func(s *book.Stats) uint64 { return s.ChecksumErrors }),
			counter("invalidations", "Times the book marked itself invalid.", func(s *book.Stats) uint64 { return s.Invalidations }),
			counter("crossed", "Books found crossed or locked (best bid >= best ask) after a snapshot or diff, invalidated.", func(s *book.Stats) uint64 { return s.Crossed }),
			counter("markers", "Gap markers published.", func(s *book.Stats) uint64 { return s.Markers }),
			counter("fetches", "Snapshots fetched.", func(s *book.Stats) uint64 { return s.Fetches }),
			counter("fetch_errors", "Snapshot fetches that failed.", func(s *book.Stats) uint64 { return s.FetchErrors }),
			counter("resubscribes", "Resubscribe calls.", func(s *book.Stats) uint64 { return s.Resubscribes }),
			counter("bbos", "Best bid/offer updates published.", func(s *book.Stats) uint64 { return s.BBOs }),
			counter("bbo_dropped", "Best bid/offer updates dropped on an exhausted pool.", func(s *book.Stats) uint64 { return s.BBODropped }),
			counter("stale_quotes", "Best bid/offers not delivered because older than the symbol's latest from its other source (the book's top or the venue's quote stream).", func(s *book.Stats) uint64 { return s.StaleQuotes }),
			counter("other_views", "Book messages and gap markers of a shallower view of the symbol (another depth's stream), ignored.", func(s *book.Stats) uint64 { return s.OtherViews }),
			counter("deferred", "Resyncs put off by the backoff of a book that breaks again after every resync.", func(s *book.Stats) uint64 { return s.Deferred }),
			counter("withheld", "Book messages not handed on while the book's gap marker was owed (an exhausted pool): downstream books must hear of the break first.", func(s *book.Stats) uint64 { return s.Withheld }),
			counter("silences", "Times a live book applied nothing for its MaxSilence and reported itself silent (not live until its stream continues).", func(s *book.Stats) uint64 { return s.Silences }),
		}),
		live: prom.NewDesc(ns("book", "live"), "1 when the book is synchronised, 0 otherwise.", []string{"venue", "symbol"}, o.ConstLabels),
		subs: newFamily(&o, "subscription", []string{"subscription"}, []metric[dispatch.Stats]{
			counter("delivered", "Events handed to the subscriber.", func(s *dispatch.Stats) uint64 { return s.Delivered }),
			counter("coalesced", "Queued coalescable events replaced by a newer one.", func(s *dispatch.Stats) uint64 { return s.Coalesced }),
			counter("dropped", "Ordered events dropped because the lane was full.", func(s *dispatch.Stats) uint64 { return s.Dropped }),
			counter("gaps", "Gap markers queued for those drops.", func(s *dispatch.Stats) uint64 { return s.Gaps }),
			counter("overflowed", "Critical events queued beyond the critical bound (none lost).", func(s *dispatch.Stats) uint64 { return s.Overflowed }),
			counter("discarded", "Queued events released at Unsubscribe or a timed-out Close.", func(s *dispatch.Stats) uint64 { return s.Discarded }),
			counter("panics", "Host code run for the subscription that panicked, recovered: its handler (the event counts as delivered), OnPanic, OnCriticalOverflow, the Logger.", func(s *dispatch.Stats) uint64 { return s.Panics }),
			gauge("depth", "Events queued now.", func(s *dispatch.Stats) float64 { return float64(s.Depth) }),
			gauge("critical_depth", "Critical events (execution reports, acks, control, account updates) queued now.", func(s *dispatch.Stats) float64 { return float64(s.Critical) }),
			gauge("coalescing_depth", "Coalescable events queued now.", func(s *dispatch.Stats) float64 { return float64(s.Coalescing) }),
			gauge("ordered_depth", "Ordered events queued now.", func(s *dispatch.Stats) float64 { return float64(s.Ordered) }),
			gauge("markers_waiting", "Gap markers waiting now.", func(s *dispatch.Stats) float64 { return float64(s.Markers) }),
			gauge("in_hand", "Events taken from the queue and not yet handed over or returned by the handler now (0 or 1; see dispatch.Stats' accounting).", func(s *dispatch.Stats) float64 { return float64(s.InHand) }),
			peak("max_depth", "Most events queued at once so far.", func(s *dispatch.Stats) float64 { return float64(s.MaxDepth) }),
			peak("worst_lag_seconds", "Longest delivery time minus ingest time so far.", func(s *dispatch.Stats) float64 { return s.WorstLag.Seconds() }),
		}),
		recs: newFamily(&o, "recorder", []string{"recorder"}, []metric[recorder.Stats]{
			counter("frames", "Frames queued for the recording.", func(s *recorder.Stats) uint64 { return s.Frames }),
			counter("bytes", "Bytes of those frames.", func(s *recorder.Stats) uint64 { return s.Bytes }),
			counter("dropped", "Frames dropped because the disk fell behind.", func(s *recorder.Stats) uint64 { return s.Dropped }),
			counter("written", "Frames flushed to a file (counted at each flush).", func(s *recorder.Stats) uint64 { return s.Written }),
			counter("write_errors", "Lines lost to a failed write.", func(s *recorder.Stats) uint64 { return s.WriteErrors }),
			counter("files_opened", "Files opened so far (one more at each rotation).", func(s *recorder.Stats) uint64 { return uint64(s.Files) }),
		}),
		merged: newFamily(&o, "merged_subscription", []string{"subscription"}, []metric[dispatch.MergedStats]{
			counter("delivered", "Merged events handed to the subscriber.", func(s *dispatch.MergedStats) uint64 { return s.Delivered }),
			counter("coalesced", "Queued views replaced by a newer one.", func(s *dispatch.MergedStats) uint64 { return s.Coalesced }),
			counter("dropped", "Windows dropped oldest-first past the bound (never a view).", func(s *dispatch.MergedStats) uint64 { return s.Dropped }),
			counter("discarded", "Queued events released at Unsubscribe or a timed-out Close.", func(s *dispatch.MergedStats) uint64 { return s.Discarded }),
			counter("panics", "Host code run for the subscription that panicked, recovered: its handler (the event counts as delivered), the Logger.", func(s *dispatch.MergedStats) uint64 { return s.Panics }),
			gauge("depth", "Events queued now.", func(s *dispatch.MergedStats) float64 { return float64(s.Depth) }),
			gauge("in_hand", "Merged events taken from the queue and not yet handed over or returned by the handler now (0 or 1).", func(s *dispatch.MergedStats) float64 { return float64(s.InHand) }),
		}),
		mergers: newFamily(&o, "merger", []string{"merger"}, []metric[merge.Stats]{
			counter("fragments", "Fragments taken into windows.", func(s *merge.Stats) uint64 { return s.Fragments }),
			counter("windows", "Windows closed.", func(s *merge.Stats) uint64 { return s.Windows }),
			counter("published", "Merged events the sink accepted.", func(s *merge.Stats) uint64 { return s.Published }),
			counter("incomplete", "Windows closed with a venue missing or events lost.", func(s *merge.Stats) uint64 { return s.Incomplete }),
			counter("suppressed", "Incomplete windows suppressed.", func(s *merge.Stats) uint64 { return s.Suppressed }),
			counter("late_dropped", "Fragments for a window already closed.", func(s *merge.Stats) uint64 { return s.LateDropped }),
			counter("duplicates", "Events the open window already held, not taken again.", func(s *merge.Stats) uint64 { return s.Duplicates }),
			counter("lost", "Events of the windows' type lost on the way, by the gap markers received.", func(s *merge.Stats) uint64 { return s.Lost }),
			counter("expired", "Venue sides dropped for staleness.", func(s *merge.Stats) uint64 { return s.Expired }),
			counter("invalidated", "Venue quotes dropped on a gap or a connection not connected.", func(s *merge.Stats) uint64 { return s.Invalidated }),
			counter("refused", "Best bid/offers of a venue not connected, or from before its reconnection.", func(s *merge.Stats) uint64 { return s.Refused }),
			counter("pool_dropped", "Views that found the Merged pool exhausted when due (published later).", func(s *merge.Stats) uint64 { return s.PoolDropped }),
			counter("windows_lost", "Closed windows dropped while waiting for the Merged pool.", func(s *merge.Stats) uint64 { return s.WindowsLost }),
		}),
		conns: newFamily(&o, "session", []string{"venue", "connection"}, []metric[session.ConnStats]{
			gauge("topics", "Streams subscribed on the connection.", func(s *session.ConnStats) float64 { return float64(s.Topics) }),
			counter("resubscribes", "Books resubscribed after they broke on the live connection.", func(s *session.ConnStats) uint64 { return s.Resubscribes }),
			counter("resubscribe_errors", "Resubscriptions that failed.", func(s *session.ConnStats) uint64 { return s.ResubscribeErrors }),
			counter("refusals", "Requests of the connection the venue refused (market: subscriptions).", func(s *session.ConnStats) uint64 { return s.Refusals }),
			counter("refusal_retries", "Connection replacements that asked the venue again after a refusal, on its backoff.", func(s *session.ConnStats) uint64 { return s.RefusalRetries }),
		}),
		sess: newFamily(&o, "session", []string{"venue", "session"}, []metric[session.Stats]{
			counter("on_state_panics", "Panics (and runtime.Goexit calls) of Config.OnState recovered.", func(s *session.Stats) uint64 { return s.OnStatePanics }),
		}),
		orders: newFamily(&o, "orders", []string{"venue", "session"}, []metric[session.OrderStats]{
			counter("sent", "Order requests written.", func(s *session.OrderStats) uint64 { return s.Sent }),
			counter("answered", "Order requests answered by the venue (acks and refusals).", func(s *session.OrderStats) uint64 { return s.Answered }),
			counter("timed_out", "Order requests given up before an answer: by their context, or at Config.OrderAnswerTimeout (ErrNoAnswer).", func(s *session.OrderStats) uint64 { return s.TimedOut }),
			counter("disconnected", "Order requests that failed with the connection while waiting.", func(s *session.OrderStats) uint64 { return s.Disconnected }),
			gauge("pending", "Order requests waiting for an answer now.", func(s *session.OrderStats) float64 { return float64(s.Pending) }),
			counter("user_data_subscriptions", "User-data subscriptions (other venues: logins) signed and sent.", func(s *session.OrderStats) uint64 { return s.UserDataSubs }),
			peak("user_data_timestamp_seconds", "Venue time the latest user-data subscription or login was signed with, Unix seconds; 0 if none.", func(s *session.OrderStats) float64 {
				if s.UserDataTS.IsZero() {
					return 0
				}
				return float64(s.UserDataTS.UnixNano()) / 1e9
			}),
			counter("refused", "Logins and private subscriptions refused.", func(s *session.OrderStats) uint64 { return s.Refused }),
			gauge("clock_offset_seconds", "Venue clock minus local clock.", func(s *session.OrderStats) float64 { return s.ClockOffset.Seconds() }),
			gauge("tracked", "Open orders followed now for reconciliation.", func(s *session.OrderStats) float64 { return float64(s.Tracked) }),
			gauge("open_count_known", "1 while the open orders followed are the venue's as of now (MAX_NUM_ORDERS and its kin applied before sending), else 0.", func(s *session.OrderStats) float64 {
				if s.OpenCountKnown {
					return 1
				}
				return 0
			}),
			counter("track_overflow", "Orders not followed past the tracking bound.", func(s *session.OrderStats) uint64 { return s.TrackOverflow }),
			counter("reconciliations", "Reconciliation passes.", func(s *session.OrderStats) uint64 { return s.Reconciliations }),
			counter("reconciled", "Execution reports published from the venue's answers to reconciliation queries.", func(s *session.OrderStats) uint64 { return s.Reconciled }),
			counter("duplicates", "Streamed execution reports dropped because their fill was delivered already.", func(s *session.OrderStats) uint64 { return s.Duplicates }),
			counter("reconcile_errors", "Reconciliation queries that failed (each try).", func(s *session.OrderStats) uint64 { return s.ReconcileErrors }),
			counter("reconcile_gaps", "Orders given up by reconciliation (a gap marker each).", func(s *session.OrderStats) uint64 { return s.ReconcileGaps }),
			counter("reconcile_weight", "Request weight reconciliation queries spent.", func(s *session.OrderStats) uint64 { return s.ReconcileWeight }),
		}),
	}
}

// AddPools adds pools read through stats (schema.Pools.Stats,
// pool.Manager's stats): one series per pool name.
func (c *Collector) AddPools(stats func() []pool.Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.poolSrcs = append(c.poolSrcs, stats)
}

// AddClient adds a websocket client; name tells its connections apart.
func (c *Collector) AddClient(venue schema.Venue, name string, cl ClientStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clientSrc = append(c.clientSrc, source[ClientStats]{[]string{string(venue), name}, cl})
}

// AddParser adds a venue parser; name tells parsers of one venue apart.
func (c *Collector) AddParser(venue schema.Venue, name string, p ParserStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parserSrc = append(c.parserSrc, source[ParserStats]{[]string{string(venue), name}, p})
}

// AddBook adds one book.
func (c *Collector) AddBook(b *book.Book) {
	c.AddBooks(func() []*book.Book { return []*book.Book{b} })
}

// AddBooks adds the books books returns at each scrape, for books made as
// symbols appear.
func (c *Collector) AddBooks(books func() []*book.Book) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bookSrc = append(c.bookSrc, books)
}

// AddSubscription adds a dispatch subscription under name.
func (c *Collector) AddSubscription(name string, s *dispatch.Subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subSrc = append(c.subSrc, source[*dispatch.Subscription]{[]string{name}, s})
}

// AddRecorder adds a recorder under name.
func (c *Collector) AddRecorder(name string, r RecorderStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recSrc = append(c.recSrc, source[RecorderStats]{[]string{name}, r})
}

// AddMergedSubscription adds a dispatch merged subscription under name.
func (c *Collector) AddMergedSubscription(name string, s MergedStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mergedSrc = append(c.mergedSrc, source[MergedStats]{[]string{name}, s})
}

// AddMerger adds a cross-venue merger under name.
func (c *Collector) AddMerger(name string, m MergerStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mergerSrc = append(c.mergerSrc, source[MergerStats]{[]string{name}, m})
}

// AddSession adds a session of venue under name: each of its connections
// as a client and a parser (connection "<name> market 1", "<name>
// orders", "<name> trade") with the session's own counters of the
// connection (meltica_session_*), its books, its pools and its order
// counters (meltica_orders_*, label session). Do not add its pools,
// books or connections again: they would be counted twice.
func (c *Collector) AddSession(venue schema.Venue, name string, s SessionStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sessSrc = append(c.sessSrc, source[SessionStats]{[]string{string(venue), name}, s})
}

// Remove takes away every source added with src (by AddClient,
// AddParser, AddSubscription, AddRecorder, AddMergedSubscription,
// AddMerger or AddSession: the same pointer, or an equal value) and
// returns how many it took: their series are gone from the next scrape.
// Call it when a source ends for good — a subscription unsubscribed, a
// session closed and not to be reused — so that a host whose sources come
// and go keeps its series, and the collector's memory, bounded. A src
// that is not comparable (also one whose type is, holding a slice or a map
// in an interface field: == on it would panic), or never added, takes
// nothing. Pools and books (AddPools, AddBooks) are read through
// functions and stay.
func (c *Collector) Remove(src any) int {
	if src == nil || !reflect.TypeOf(src).Comparable() {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	c.clientSrc = removeSource(c.clientSrc, src, &n)
	c.parserSrc = removeSource(c.parserSrc, src, &n)
	c.subSrc = removeSource(c.subSrc, src, &n)
	c.recSrc = removeSource(c.recSrc, src, &n)
	c.mergedSrc = removeSource(c.mergedSrc, src, &n)
	c.mergerSrc = removeSource(c.mergerSrc, src, &n)
	c.sessSrc = removeSource(c.sessSrc, src, &n)
	return n
}

// removeSource deletes the sources of list that are src, adding their
// count to n. Collect works on a copy, so the list may be changed in
// place.
func removeSource[T any](list []source[T], src any, n *int) []source[T] {
	return slices.DeleteFunc(list, func(s source[T]) bool {
		if same(s.src, src) {
			*n++
			return true
		}
		return false
	})
}

// same reports a == b, and false where == panics: a type that reflect
// calls comparable may hold, in an interface field, a value that is not
// (a slice, a map), and comparing two such values panics at run time.
// Values of two types are unequal without being compared.
func same(a, b any) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	c.pools.describe(ch)
	c.clients.describe(ch)
	ch <- c.recon
	ch <- c.up
	c.parsers.describe(ch)
	c.books.describe(ch)
	ch <- c.live
	c.subs.describe(ch)
	c.recs.describe(ch)
	c.merged.describe(ch)
	c.mergers.describe(ch)
	c.conns.describe(ch)
	c.orders.describe(ch)
	c.sess.describe(ch)
}

// Collect implements prometheus.Collector: it reads every source's Stats.
// Sources whose label values coincide (the pools of two schema.Pools, a
// name given twice) make one series: counters and levels summed, peaks and
// times the max.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	c.mu.Lock()
	pools := append([]func() []pool.Stats(nil), c.poolSrcs...)
	clients := append([]source[ClientStats](nil), c.clientSrc...)
	parsers := append([]source[ParserStats](nil), c.parserSrc...)
	books := append([]func() []*book.Book(nil), c.bookSrc...)
	subs := append([]source[*dispatch.Subscription](nil), c.subSrc...)
	recs := append([]source[RecorderStats](nil), c.recSrc...)
	merged := append([]source[MergedStats](nil), c.mergedSrc...)
	mergers := append([]source[MergerStats](nil), c.mergerSrc...)
	sessions := append([]source[SessionStats](nil), c.sessSrc...)
	c.mu.Unlock()

	out := &series{}
	defer out.send(ch)
	for _, src := range pools {
		for _, s := range src() {
			c.pools.collect(out, &s, s.Name, s.Type)
		}
	}
	for _, src := range clients {
		s := src.src.Stats()
		c.client(out, &s, src.labels[0], src.labels[1])
	}
	for _, src := range parsers {
		s := src.src.Stats()
		c.parsers.collect(out, &s, src.labels...)
	}
	seen := map[[2]string]bool{}
	for _, src := range books {
		for _, b := range src() {
			s := b.Stats()
			c.book(out, seen, string(b.Venue()), b.Symbol(), b.Live(), &s)
		}
	}
	for _, src := range sessions {
		st := src.src.Stats()
		venue, name := src.labels[0], src.labels[1]
		conns := st.Market
		if st.Orders.Conn.Role == session.RoleOrders {
			conns = append(conns, st.Orders)
		}
		if st.Trade.Conn.Role == session.RoleTrade {
			conns = append(conns, st.Trade)
		}
		for i := range conns {
			cs := &conns[i]
			conn := name + " " + cs.Conn.String()
			c.client(out, &cs.Client, venue, conn)
			c.parsers.collect(out, &cs.Parser, venue, conn)
			c.conns.collect(out, cs, venue, conn)
		}
		if st.Orders.Conn.Role == session.RoleOrders {
			c.orders.collect(out, &st.Order, venue, name)
		}
		c.sess.collect(out, &st, venue, name)
		for i := range st.Books {
			b := &st.Books[i]
			c.book(out, seen, venue, b.Symbol, b.Live, &b.Book)
		}
		for _, p := range st.Pools {
			c.pools.collect(out, &p, p.Name, p.Type)
		}
	}
	for _, src := range merged {
		s := src.src.Stats()
		c.merged.collect(out, &s, src.labels...)
	}
	for _, src := range mergers {
		s := src.src.Stats()
		c.mergers.collect(out, &s, src.labels...)
	}
	for _, src := range subs {
		s := src.src.Stats()
		c.subs.collect(out, &s, src.labels...)
	}
	for _, src := range recs {
		s := src.src.Stats()
		c.recs.collect(out, &s, src.labels...)
	}
}

// client adds a websocket client's series.
func (c *Collector) client(out *series, s *wsclient.Stats, venue, conn string) {
	c.clients.collect(out, s, venue, conn)
	for r, n := range s.Reconnects {
		if r == int(wsclient.ReasonNone) {
			continue
		}
		out.add(c.recon, prom.CounterValue, false, float64(n), venue, conn, wsclient.Reason(r).String())
	}
	up := 0.0
	if s.State == schema.ConnConnected {
		up = 1
	}
	out.add(c.up, prom.GaugeValue, true, up, venue, conn)
}

// book adds a book's series once: the same book from two sources would be
// a duplicate series.
func (c *Collector) book(out *series, seen map[[2]string]bool, venue, symbol string, live bool, s *book.Stats) {
	key := [2]string{venue, symbol}
	if seen[key] {
		return
	}
	seen[key] = true
	c.books.collect(out, s, venue, symbol)
	v := 0.0
	if live {
		v = 1
	}
	out.add(c.live, prom.GaugeValue, true, v, venue, symbol)
}
