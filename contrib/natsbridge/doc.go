// Package natsbridge carries Meltica's canonical events between machines on
// NATS, so that one ingest node holds the venue connections and many
// strategy hosts consume them. It is a module of its own
// (github.com/meltica/meltica/contrib/natsbridge): hosts that do not use
// NATS never get it in their go.mod.
//
// # Lifecycle of an event
//
// On the ingest node the usual pipeline (wsclient → normalize → dispatch)
// publishes into a dispatch.Dispatcher. A Publisher is one of its
// subscribers: the dispatcher hands it a heap clone on its own delivery
// goroutine, so NATS never slows the venue's reader. The Publisher encodes the
// event (see Encoding) and publishes it on
//
//	<prefix>.<venue>.<symbol>.<type>      e.g. meltica.binance.BTC-USDT.trade
//
// (see Subject for the exact token rules; '-' in symbols is an ordinary
// character for NATS). Market data and control events (gap markers,
// connection states, venue control) go on core NATS; execution reports,
// order acks and account updates (balances and positions) go to a
// JetStream stream (StreamOptions). A gap marker goes on the subject of the
// stream it reports on — its Control.GapType for its type,
// "meltica.binance.BTC-USDT.book_update" for a broken book — so that a
// consumer of that stream alone hears of the loss, in order with the
// stream's events; one about execution reports, order acks or account
// updates (session's reconciliation giving up on an order) is stored in
// the JetStream stream on its type's subject, with the reports it speaks
// for and as durably (on core NATS its loss could not be told); one about
// no type on <type> "gap".
//
// On a strategy host a Consumer subscribes to subjects, wildcards allowed
// ("meltica.binance.>", "meltica.*.BTC-USDT.*"). As a dispatch.Filter's
// symbol list lets events without a symbol through (a venue's connection
// states, venue control, venue-wide gap markers), a subject that names a
// symbol brings those of its venue and type tokens too: with
// "meltica.*.BTC-USDT.*" the Consumer also subscribes to "meltica.*._.*".
// For each message it takes an event from the host's pool, decodes into
// it and publishes it to the host's dispatcher, which takes ownership exactly as on the ingest node. The
// host's subscribers get heap clones with the same lanes: coalescing,
// bounded ordered lanes and their gap markers, critical lane first.
//
// The subjects may overlap ("meltica.binance.>" with
// "meltica.*.BTC-USDT.*"): the server then sends a message once per
// matching subscription, and the Consumer hands on only the copy of the
// first subject that matches (ConsumerStats.Duplicates counts the others).
// All its subscriptions feed one queue, bounded by
// ConsumerOptions.PendingMsgs and PendingBytes, that one goroutine empties,
// so events are handed on in the order the server sent them, across
// subjects too (but for the newest quote of a stream that the queue could
// not hold, kept and handed on once it is empty: see PendingMsgs).
// Execution reports are read by one durable consumer whose filters
// are the subjects — or, when they overlap (JetStream refuses overlapping
// filters), the whole stream, keeping the reports the subjects match.
//
// # Losses and gap markers
//
// Every market data message carries a bridge sequence per stream (venue,
// symbol, type and view — a book's depth, a kline's interval, a ticker's
// window, as dispatch queues and reports them apart: Bybit orderbook.50
// beside orderbook.200 are numbered each on its own, in a run of its own,
// and a loss of one is announced by a marker naming its Depth
// (Kline.Interval, Ticker.Window), before that
// view's next event; not per subject: two symbols a subject token cannot
// tell apart, such as "BTC.USDT" and "BTC_USDT", are two streams), counted by
// the Publisher before it tries to publish; so does a gap marker that
// travels on its stream's subject, numbered in that stream, so that its
// own loss shows too. (A consumer older than this numbering reports one
// message lost per such marker. The numbering per view is layout 8 (and 9): its
// version byte tells a Consumer to check the message per view, and a
// message of layout 7 or 6, numbered per stream with the views together,
// is checked per stream; so a Publisher and a Consumer of different
// versions announce no loss that did not happen (checked per view, two
// views of a layout-7 stream interleaved read as a loss at every
// message). A Publisher writing layout 7 or 6 for Consumers older than 8
// (PublisherOptions.WireVersion) numbers the views together, as they
// count them; a loss it reveals names no view. A view first seen under
// layout 9 or 8 of a stream checked under 7 or 6 comes from a Publisher that
// replaced one of the other layout: its run counts the view from 1, and
// its messages before the first that arrived are reported lost; so is a
// stream first seen under 7 or 6 whose views were checked under 9 or 8, the
// Publisher rolled back.) Messages lost anywhere on the way
// — refused by NATS while it reconnects (nats.go's reconnect buffer is
// bounded, see Connect), dropped by the server or the client because the
// consumer fell behind (its pending limits are bounded,
// ConsumerOptions.PendingMsgs), published while the consumer was
// disconnected — show as a jump, and the Consumer publishes a gap marker
// (schema.EventGap, Control.GapCount = how many) for an ordered stream
// (trades, book diffs, closed klines, liquidations) ahead of the next event
// of the stream. Losses of coalescable streams are not gaps: the next update
// replaces the lost one. But until it comes the far side's quote is stale,
// and nothing else would show it: so a Publisher keeps the coalescable
// streams whose quotes NATS refused (its link down, the reconnect buffer
// full) and, once the link is back, publishes on each stream's subject a
// gap marker about it (GapType the stream's type, GapCount 0, GapSource
// schema.GapRelay; past MaxStreams such streams, one per venue and type
// naming no symbol) — its subscribers hear that the quote is stale until
// the next update, and dispatch drops a quote still queued from before the
// loss. What its link had taken when it dropped (nats.go accepted it) is
// lost unseen: so, once back, the Publisher also publishes a marker naming
// the type and no symbol about every quote type of every venue it sent
// (the 1,280 kinds sent most recently; one forgotten is counted in
// PublisherStats.QuoteKindsForgotten and logged), on "prefix.venue._.type", which a Consumer selecting
// by type or by symbol receives too; subscribers of ordered streams are
// not told (their sequences tell their losses). That marker tells every
// stream of its type, so a refused stream of a type told so gets none of
// its own: one announcement per type lost, not a burst of one per stream
// at the reconnection.
// (A Consumer whose own link drops tells its subscribers likewise: see
// Connection state. So does one for which nats.go dropped messages, a
// slow consumer — it counts them, ConsumerStats.SlowDropped, but does not
// say which: once its queue is empty the Consumer publishes a gap marker
// naming no type or symbol about every venue it brought.) A loss at the end of a stream is reported when the
// stream's next message arrives. A Publisher that restarts, or that
// forgot a stream (MaxStreams below), counts the stream from 1 again, in a
// new run that every message names (layout 7: a run per stream, from a
// random start per Publisher): a new run, or a sequence that goes back,
// starts the stream over, and the new run's messages before the first
// that arrived are reported lost — also when it numbers past the old
// run's last, which the sequence alone (layout 6) took for a continuation
// or for a loss of the difference. (What the old run lost at its end
// cannot be told.)
//
// What the Consumer keeps per stream and per subject is bounded by
// ConsumerOptions.MaxStreams, whoever publishes on its subjects: past it
// the stream seen least recently is forgotten (ConsumerStats.Evicted), and
// from then on a stream first seen midway — perhaps one forgotten — is
// announced by a gap marker of unknown count (GapCount 0). The Publisher's
// sequences are bounded likewise, by PublisherOptions.MaxStreams: a stream
// it forgot (PublisherStats.Evicted) counts from 1 again if it comes back,
// a new run of the stream to the Consumer, as after a restart.
//
// Losses are announced even when the host's event pool is exhausted, and
// core messages never wait for it: the Consumer keeps one event of the
// pool in reserve for critical messages and gap markers (taken back while
// the pool has two events free or more); market data that finds no event
// is dropped without moving its stream's sequence (a stream's first
// message, dropped so, still marks where the stream starts), so the next
// message shows the jump and gets its marker — in that message's own event, counting
// itself, when no other is free; the latest update of a coalescable stream
// that finds no event is kept and delivered once one is free (unless a newer
// one comes first, or a gap marker about its stream: the marker goes
// first, and the update from before it is dropped, as dispatch drops a
// queued quote a marker overtakes); a critical message that finds no event (a gap marker or
// a state from the ingest node) is kept and delivered first, in order, once
// one is free — nothing overtakes it. A subscriber never sees a hole
// without a marker before the next event of the stream.
//
// An event larger than the server's max_payload (1 MiB by default; a book
// snapshot with the venue's payload kept, say) crosses without its Raw,
// and, if it still does not fit, without its free texts (reject reason,
// control and account reasons); PublisherStats.Trimmed counts them. A
// market data event that still does not fit is refused by NATS and shows
// as a loss (PublisherStats.Dropped, a gap marker for an ordered stream).
//
// # Execution reports: the guarantee
//
// Execution reports and order acks are never dropped by the bridge, and
// neither are account updates (schema.EventBalance, schema.EventPosition),
// which travel the same way, and nor are the gap markers about them (what
// follows of reports holds for them; the message id of an account update
// adds the asset or side, the place in the venue's message and the update
// time, a marker's what it says was lost — type, source, count, sequence
// range and reason — and when it was made, IngestTS: the next
// reconciliation pass's marker about the same order is another loss, not
// a duplicate):
//
//   - On the ingest node they wait in the Publisher's queue (a soft bound,
//     PublisherOptions.ExecBound, past which it grows and raises the alarm)
//     and are stored one at a time, in order, each retried until the stream
//     acknowledges it. Each carries a message id (Nats-Msg-Id) made of the
//     report's identity (venue, symbol, type, order ids, execution type,
//     status, trade id, cumulative quantity, times, sequence, the request
//     id an order ack answers; fields separated by '|', other bytes than
//     printable ASCII and '|' and '%' escaped as %XX): within the
//     stream's DuplicateWindow (2 min by default) a report published again
//     is stored once.
//   - On a strategy host a durable JetStream consumer (ConsumerOptions.Durable)
//     delivers them, MaxAckPending at a time (1 by default, so that a
//     redelivery never overtakes a later report), its pulls kept within
//     the durable consumer's request limits (MaxWaiting, MaxRequestBatch,
//     MaxRequestExpires: see ConsumerOptions.MaxAckPending). A report is acknowledged,
//     with the server's confirmation, after the host's dispatcher has
//     queued it for every subscriber; a redelivery of an id the consumer has
//     already handed on is dropped (it remembers the last
//     ConsumerOptions.Dedup ids). The ack of such a duplicate, or of
//     another node's report (Subjects that overlap read the whole
//     stream), is confirmed on a goroutine of its own, so that the
//     reports after it do not wait for its round trip: 32 such
//     confirmations at most at once, past which one is waited for before
//     the next report, as a report handed on is. An ack not confirmed within a second
//     (lost with a dying link), or whose wait nats.go ended with
//     ErrDisconnected (Conn.ForceReconnect), is sent again until it is
//     confirmed, within AckWait,
//     so that the server, which delivers MaxAckPending at a time, does not
//     hold the next report for AckWait — unless the server no longer waits
//     for it (the durable consumer was reset under the report, by an
//     operator or by the Consumer as below: the server ignores the ack
//     until it delivers the report again, dropped then by its id; one
//     sent again held the next report for AckWait when no pull waited to
//     deliver it); and once its connection is back
//     after a loss, a Consumer whose durable consumer waits for the ack of
//     a report it delivered into the lost link (one the Consumer never
//     received: a report received, waiting to be handed on, is not reset
//     and not logged) resets it to its ack floor (JetStream's consumer reset, ADR-60,
//     nats-server 2.14 and later; on an older server the reset fails,
//     logged at Warn, and the report comes after AckWait), so that the
//     report comes again at once rather than after AckWait. So does a
//     Consumer whose Consume the resumer stopped and started again on the
//     same durable consumer (a pull refused for a limit an operator
//     lowered: see ConsumerOptions.MaxAckPending) when the server waits
//     for the acks of reports the stopped Consume received and never
//     handed on; a report of the stopped Consume that reaches the
//     Consumer after the reset is handed back, and the new Consume
//     delivers it.
//
// A durable message the consumer cannot decode (another layout version,
// as during a rolling upgrade; another producer's message) is terminated
// (Term, confirmed and sent again as an ack is), or it would hold every
// later report, and announced: a gap
// marker (schema.EventGap, Control.GapType its type from the subject,
// GapCount 1, GapSource schema.GapRelay, the error in Reason) on its
// subject's venue and symbol, so that the host asks the venue rather than
// wait for a report that will not come.
//
// A Consumer that closes hands back (Nak) the reports delivered to it and
// not yet handed on — the one in hand and those nats.go had buffered — and
// confirms it with a flush, so that its next incarnation with the same
// Durable gets them at once rather than after AckWait.
//
// The durable consumer and the stream may vanish under a running bridge:
// an operator deletes the consumer, or deletes the stream and creates it
// again (to change a field the server will not update), or a memory
// stream (StreamOptions.Memory) is lost with its server's restart.
// nats.go's Consume stops for good on "consumer deleted" and makes
// nothing again, so the Consumer does (ConsumerStats.ExecResumed, a log
// line at Warn): on an error of Consume that may mean its consumer is gone
// (deleted; not found; a pull that reached no one, 503 "no responders",
// as when it was deleted while no pull of it waited; missed heartbeats:
// pull requests live 10 s, so a consumer gone without a word is noticed
// within about 10 s), it makes the stream again if it is missing (not
// with NoCreate) and the consumer again — after the last report it
// handled, or at the first it handed back, or at the first below it that
// it did not handle (delivered into
// a link that died, or to a Consumer sharing the Durable; reports it
// handled after that are dropped by stream sequence), on the stream it
// read; from the start of a stream created again —
// and consumes again, retrying with capped backoff until it succeeds or
// Close. Tries that fail for 20 s while the NATS connection is up (an
// operator's push consumer in its place, a MaxRequestExpires under 1 s,
// the server refusing) tell the host once, until one succeeds: a gap
// marker about each venue's execution reports, GapCount 0 (they wait in
// the stream). A stream made again by an operator with settings the server
// will not let the Consumer change (another storage) is read as an
// operator's stream is (NoCreate) when it holds the reports as well, and
// a consumer an operator made again with it is read from where it is. A
// consumer an operator made again on the stream read (DeliverAll: from its
// first) delivers again reports handled already: those this Consumer
// handled (or at or below the durable consumer's ack floor when it
// started) and not handed back since are dropped by their stream sequence
// (ConsumerStats.ExecDuplicate), however far back Dedup's ids reach; one
// delivered elsewhere and not handled here (to a Consumer sharing the
// Durable, into a link that died) is handed on. Until the Consumer has
// looked at such a consumer, a report of it at or below the last handled
// is handed back (Nak), however often it comes again, so that none is
// handed on before the look tells it a replay. A store that finds no stream makes the Publisher create it again
// likewise (PublisherStats.StreamCreated; not with NoCreate: the
// operator's), so that reports do not wait for ever. Reports stored in a
// stream before it was deleted and not yet read are lost with it:
// announced as reports removed are (below) by the Consumer that makes its
// durable consumer again on the new stream — as many as the last report
// it received said were pending after it (NumPending), and those it had
// handed back. (Consumers sharing a Durable each count from their own
// last report: what the other handed on after it is counted too, a marker
// with a count too high — the host asks the venue for state it has; none
// is missed.) So a
// durable consumer deleted on purpose under a running Consumer comes
// back: to retire one, Close its Consumer first, then delete it.
//
// Delivery is therefore at least once, and exactly once in these cases:
// consumers that stop with Close (every acknowledgement confirmed), and
// redeliveries within one consumer's life. A duplicate can reach a host's
// dispatcher only when the consumer's process dies between handing a report
// on and the server confirming its ack, or its Close's ctx ends first (at
// most MaxAckPending reports; the next incarnation gets them at once: it
// resets the durable consumer to its ack floor when the server waits for
// an ack as it starts and no other Consumer reads it, nats-server 2.14
// and later), or
// when the ingest node publishes the same report again after the
// DuplicateWindow. A report is lost only if the ingest node's process ends
// with it still queued (Publisher.Close reports how many), or if it is
// removed from the stream before the Consumer reads it: it stays longer
// than StreamOptions.MaxAge (24 h by default) unconsumed, an operator
// purges the stream, or an operator's stream discards old messages at a
// limit. JetStream's consumer skips what is gone without a word. A
// Consumer that reads the whole stream (its Subjects cover every durable
// subject, and the stream holds nothing else, as the bridge's own: every
// stream sequence is one of its durable consumer's) tells it by stream
// sequences: those passed between
// two of its deliveries and not delivered meanwhile (the consumer sequence
// counts every delivery: to another Consumer sharing the Durable, into a
// lost link) were removed. Another Consumer tells it from each delivery's
// count of the durable consumer's messages pending after it (JetStream's
// NumPending): fewer pending at the next delivery than that count, less
// the deliveries since, were removed — as far as the stream confirms it:
// as many of the stream sequences between the two deliveries as it no
// longer holds (before its first, or deleted), asked of the stream when
// NumPending says so, the rest kept for the sequences between later
// deliveries up to the stream's last at the time, then forgotten. So a server that over-counts NumPending (nats-server#2357,
// #5655, fixed upstream) announces no loss (of a Consumer of some
// subjects, one that over-counts as another subject's message is removed
// between the same two deliveries can; when the stream does not answer,
// NumPending is trusted). Only the deliveries of the
// durable consumer's current Consume count: a late one of the Consume a
// resume replaced is another consumer's count (and, of a report the new
// one delivers again, is handed back, so that it comes in its turn).
// Those are announced (ConsumerStats.ExecLost, at Warn) by a gap marker
// before the next report: schema.EventGap, Control.GapType
// schema.EventExecReport, no Symbol, GapSource schema.GapRelay, one per
// venue whose reports the Consumer has seen, GapCount the count when there
// is one such venue (else 0, the count in Reason), so that the host asks
// the venue for its orders' state. Reports that aged out while no
// Consumer ran are announced likewise by a Consumer that reads the whole
// stream (its Subjects cover every durable subject, the stream is not
// NoCreate): at start, the stream's first message past the last the
// durable consumer delivered. Not seen: what a purge removed while no
// Consumer ran (the server moves the durable consumer past it and keeps
// no trace of where it was: a host that purges the stream while its
// Consumers are stopped asks the venue for its orders' state itself), what
// aged out unread by a Consumer of some subjects (it may be other
// nodes'), and, by a Consumer of some subjects, reports published and
// removed between two deliveries. A
// report handed back (its host's event pool exhausted) and removed before
// it came again is announced once the server delivers a later report for
// the first time, or the durable consumer is made again (the Consumer
// then asks the stream for it), before the next report after that.
//
// # Connection state
//
// Both sides report their NATS connection in the state model of the venue
// connections (StateEvent with schema.ConnConnected, schema.ConnDisconnected,
// schema.ConnReconnecting, schema.ConnClosed) through an OnState callback;
// the Consumer also publishes each state as a schema.EventConnState event
// into its dispatcher, with the Venue ConsumerOptions.StateVenue ("nats"),
// as a critical message: in order with the core messages, never dropped
// (from the reserve, or held until an event is free, when the pool is
// exhausted). When its connection drops (disconnected or closed after
// connected), the Consumer also tells the streams themselves, as a
// strategy reading one symbol may not subscribe to the venue "nats": once
// the messages received before the loss (queued, or in nats.go's channel
// then) are handed on, so that none of them follows it and passes for a
// stream's next update, a gap marker (schema.EventGap, Control.GapType
// schema.EventUnknown, no Symbol, GapCount 0, GapSource schema.GapRelay)
// about every venue whose market data it brought (the 256 seen most
// recently; one forgotten past them is counted,
// ConsumerStats.VenuesForgotten, and logged at Warn), which
// dispatch delivers to every market data subscriber of the venue and
// which replaces the quotes still queued: every stream is stale until its
// next update. Ordered streams also count what they lost when they
// resume.
//
// # Encoding
//
// Messages are a compact binary layout, version 9 (2 added Control.RequestID, 3 Control.GapSource,
// 4 Control.Value and the Balance and Position sections, 5 the execution's
// PositionSide, ReduceOnly, RealizedPnL and Reconciled, 6 the book's Depth,
// 7 the run of the bridge sequence, 8 the bytes of 7 with the bridge
// sequence numbered per view, 9 the ticker's Window and WeightedAvgPrice).
// A Consumer reads 9, 8, 7 and 6 (8, 7 and 6 read a ticker's Window and
// WeightedAvgPrice as zero; 6 reads the run as 0: none); a Publisher
// writes 9, or 8, 7 or 6 with PublisherOptions.WireVersion while consumers
// older than 9 (which refuse it) are upgraded. Those layouts cannot carry
// a ticker's window: a ticker of a rolling window (Binance 1hTicker,
// 4hTicker, 1dTicker) and a gap marker about one are not published under
// them, counted in PublisherStats.Unwritable, for an older Consumer would
// take the 1 h ticker for the symbol's 24 h one. Chosen over goccy/go-json
// by measurement (BenchmarkEncode and BenchmarkDecode in internal/wire: a
// trade is 74 bytes (70 in version 6) against 1574, encodes in ~0.13 µs against ~6.9 µs,
// decodes in ~0.2 µs against ~5.5 µs, with no allocation against 49). All
// integers are little-endian fixed width, LEB128 uvarints, or zig-zag
// varints; a decimal is its mantissa (varint) and scale (byte), so the
// venue's digits and trailing zeros cross exactly; a string or byte slice is
// a uvarint length and the bytes; an ID is a length byte and the bytes.
//
//	u8       version (9)
//	u8       event type (schema.EventType)
//	uvarint  bridge sequence (0: none; execution reports, states and
//	         control; a gap marker of market data is numbered in its stream)
//	u32      run of the bridge sequence (0: none; not in version 6)
//	string   venue, string symbol
//	uvarint  SeqProvider; i64 ExchangeTS; i64 IngestTS
//	uvarint  TraceID; uvarint DecisionID; bytes Raw
//	u16      section mask: bit 0 Trade, 1 BBO, 2 Book, 3 Ticker, 4 Kline,
//	         5 Mark, 6 Liquidation, 7 Exec, 8 Control, 9 Balance,
//	         10 Position; a section held by value (Trade, BBO, Book) is
//	         written when it is not zero, an out-of-line one (Ticker to
//	         Position) when the event carries it (its pointer is not nil,
//	         even with every field zero: a gap marker's Control), in bit
//	         order; a decoded event carries exactly the out-of-line
//	         sections the mask names, the others nil. The bytes are those
//	         of before schema's compact event: a publisher of before wrote
//	         no zero section (read as nil), and a consumer of before reads
//	         a carried zero section as the zero it held; version 8 carries
//	         a ticker section with only a Window or a WeightedAvgPrice,
//	         without them (before, it left it out):
//	Trade        id ID; dec Price, Qty; u8 Side
//	BBO          dec BidPrice, BidQty, AskPrice, AskQty
//	Book         uvarint n, n × (dec Price, dec Qty) bids; the same for asks;
//	             uvarint FirstSeq, LastSeq, PrevSeq; u32 Checksum; u8 HasChecksum;
//	             uvarint Depth
//	Ticker       dec Last, LastQty, BidPrice, BidQty, AskPrice, AskQty, Open,
//	             High, Low, Volume, QuoteVolume, PriceChange, ChangePct,
//	             MarkPrice, IndexPrice, FundingRate, OpenInt;
//	             i64 NextFundingTime, WindowOpen, WindowClose; uvarint TradeCount;
//	             string Window; dec WeightedAvgPrice (these two not in
//	             versions 8, 7, 6)
//	Kline        string Interval; i64 OpenTime, CloseTime; dec Open, High, Low,
//	             Close, Volume, QuoteVolume; uvarint TradeCount; u8 Closed
//	Mark         dec MarkPrice, IndexPrice, EstSettlePrice, FundingRate;
//	             i64 NextFundingTime
//	Liquidation  u8 Side; dec Price, Qty, AvgPrice, FilledQty; u8 Status
//	Exec         ID ClientOrderID, VenueOrderID, OrigClientOrderID, TradeID,
//	             FeeAsset; u8 Side, Type, TimeInForce, ExecType, Status;
//	             dec Price, Qty, StopPrice, LastFillPrice, LastFillQty,
//	             CumFillQty, CumQuoteQty, RemainingQty, AvgPrice, Fee;
//	             u8 IsMaker; string RejectReason; i64 TransactTime, OrderCreated;
//	             u8 PositionSide, ReduceOnly; dec RealizedPnL; u8 Reconciled
//	Control      u8 Kind, State, GapType, GapSource; uvarint GapCount, GapFirstSeq,
//	             GapLastSeq; varint Code; uvarint RequestID; varint Value;
//	             string Reason
//	Balance      ID Asset; u8 Kind; dec Free, Locked, Delta, Wallet,
//	             CrossWallet; string Reason; i64 UpdateTime; uvarint Index,
//	             Count (each < 2³²)
//	Position     u8 Side, MarginType; dec Amount, EntryPrice, BreakEvenPrice,
//	             RealizedPnL, UnrealizedPnL, IsolatedWallet, MarkPrice,
//	             MaintMargin, CrossWallet; u8 MarginCall; string Reason;
//	             i64 UpdateTime; uvarint Index, Count (each < 2³²)
//
// A decoder refuses another version (a new layout gets a new version byte),
// an event type it does not know (past schema.NumEventTypes), truncated or
// trailing bytes, scales over schema.MaxScale and the mantissa
// math.MinInt64 (outside Decimal's range); it never
// panics (fuzzed). The Consumer's errors for such messages match
// ErrWireVersion (another version, or not the bridge's) and ErrMalformed
// (the rest).
//
// # Goroutines and closing
//
// Close the venue connections, then the ingest dispatcher (it hands the
// Publisher what is queued), then the Publisher (it waits for queued
// execution reports to be stored). On a strategy host close the Consumer,
// then its dispatcher. The NATS connections are the host's: close them last.
// No goroutine of the bridge outlives Close.
//
// # Logging
//
// PublisherOptions.Logger and ConsumerOptions.Logger (nil: silent) take a
// *slog.Logger: the NATS connection's states and the durable consumer's
// start and stop at Info; messages NATS refused, failed attempts to store a
// report, gaps, pool exhaustion, malformed messages and unconfirmed acks at
// Warn, the first of each kind and then each time its total doubles, never
// once per message. Keys: "role" (publisher, consumer), "durable",
// "subject", "venue", "symbol", "state", "count", "total", "error".
// The handler is called synchronously, as slog's are: one that blocks holds
// up the bridge's goroutine that logs until it returns (see
// ConsumerOptions.Logger), as OnExecBacklog does.
//
// The logger's handler, OnExecBacklog and OnState are host code run on
// goroutines of the bridge's (or of the dispatcher's and nats.go's). A
// panic in them is recovered (OnState's and OnExecBacklog's logged at
// Error; a handler's record dropped), and a runtime.Goexit (t.FailNow in
// a test's callback) ends no goroutine that stores, hands on or delivers
// execution reports and market data. So is the host dispatcher's own host
// code (dispatch.Options.OnCriticalOverflow, its Logger), which its
// Publish runs on the Consumer's goroutines: a Goexit there, which dispatch
// survives (the event delivered), ends the goroutine that called; the
// Consumer's loop goes on from a new one. A durable message's Publish runs
// on a goroutine of its own, the durable consumer's waiting (as the
// handler's): a Goexit there ends that one only, and the report is
// acknowledged as delivered — the next comes at once, not after AckWait.
package natsbridge
