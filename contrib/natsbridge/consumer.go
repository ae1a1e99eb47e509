package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Defaults of ConsumerOptions.
const (
	DefaultPendingMsgs   = 65536
	DefaultPendingBytes  = 64 << 20
	DefaultStateVenue    = schema.Venue("nats")
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 1
	DefaultDedup         = 4096
	DefaultPoolWait      = time.Second
	DefaultMaxStreams    = 65536
)

// ConsumerOptions tune a Consumer. A nil *ConsumerOptions gives the
// defaults; NewConsumer copies the struct.
type ConsumerOptions struct {
	// Prefix is the subjects' first token. Defaults to DefaultPrefix.
	Prefix string
	// Subjects are the subjects subscribed, wildcards allowed:
	// "meltica.binance.>", "meltica.*.BTC-USDT.*", "meltica.*.*.trade".
	// They may overlap: an event whose subject two of them match is handed
	// on once, in order. They select execution reports from the stream
	// too. Defaults to Prefix + ".>", everything.
	Subjects []string
	// Durable names the JetStream durable consumer that delivers execution
	// reports and order acks. It is what lets a restarted consumer resume
	// where it stopped; two Consumers with the same name share (split)
	// the reports, so give each node its own: after a reconnection one of
	// them has the server deliver again what it delivered and is not
	// acknowledged (see "Execution reports: the guarantee" in the package
	// doc), and a report in the other's hands then may come to both. One
	// that starts while another reads the name logs it at Warn. Each
	// keeps its pulls within the durable consumer's MaxWaiting, not
	// together: past it the server ignores a pull without a word
	// (nats-server consumer.go processNextMsgRequest: pulls asking for
	// heartbeats get no 409), the reports go to the pulls that wait, and
	// a sharer left with none pulls again after missed heartbeats (about
	// 10 s): none is held or lost (TestS40natsSharersPastMaxWaiting).
	// Empty: this Consumer receives no execution reports. Defaults to
	// empty.
	Durable string
	// Stream describes the JetStream stream of execution reports; give it
	// the values the Publisher has.
	Stream StreamOptions
	// PendingMsgs and PendingBytes bound what waits for this consumer: all
	// subjects share one queue, so that the consumer hands messages on in
	// the order the server sent them. Beyond either bound messages are
	// dropped (a slow consumer, ConsumerStats.SlowDropped); the losses of
	// ordered streams become gap markers, and the newest dropped quote of
	// each coalescable stream (per subject and live kline interval, as many
	// as the bounds again) is kept and handed on once the queue is empty,
	// unless a newer message of its stream got in first: latest wins. (Messages in transit from nats.go
	// to the queue, which a goroutine that does nothing else moves as they
	// come, are bounded by PendingMsgs alone.) Default to
	// DefaultPendingMsgs and DefaultPendingBytes.
	PendingMsgs, PendingBytes int
	// AckWait is how long the server waits for the ack of an execution
	// report before delivering it again. Defaults to DefaultAckWait.
	AckWait time.Duration
	// MaxAckPending is how many execution reports may be delivered and not
	// yet acknowledged. With 1 (the default) a redelivery can never
	// overtake a later report: the reports of an order stay in order.
	// Above a limit of the stream's, the account's or the server's
	// (max_ack_pending) NewConsumer returns the server's error (JetStream
	// error code 10121). The durable consumer's request limits — MaxWaiting,
	// MaxRequestBatch, MaxRequestExpires, an operator's or the server's —
	// are kept, and the Consumer's pulls ask within them, however large
	// MaxAckPending is (a pull past one was refused or ignored: the reports
	// stalled); a pull refused after an operator changed them under a
	// running Consumer makes it consume again within the new ones. When
	// one of them caps the pull at MaxAckPending or below, the durable
	// consumer's MaxAckPending is set one under the cap (at least 1), so
	// that a pull still waits on the server while reports are in hand (a
	// live reader: see Durable).
	MaxAckPending int
	// Dedup is how many execution report ids the consumer remembers, to
	// drop a redelivery it has already handed on (an id over 512 bytes,
	// another producer's, as its SHA-256). Defaults to DefaultDedup.
	Dedup int
	// StateVenue is the Venue of the EventConnState events that report the
	// NATS connection's state to the dispatcher (a subscription whose
	// Filter names venues must name it too to see them). Defaults to
	// DefaultStateVenue ("nats").
	StateVenue schema.Venue
	// PoolWait bounds the wait for an event from the pool for execution
	// reports (handed back when it ends). Core messages and the NATS
	// connection's states never wait: market data that finds no event is
	// dropped and announced (a gap marker for an ordered stream, the latest
	// update kept for a coalescable one), a critical message or a state is
	// kept and delivered first once an event is free (while 1024 of them,
	// or PendingBytes, wait, no more messages are taken from the queue,
	// whose bounds then apply). Defaults to DefaultPoolWait.
	PoolWait time.Duration
	// MaxStreams bounds the streams (venue, symbol, type and view: a book's
	// depth, a kline's interval) and the subjects
	// the consumer keeps state for, whoever publishes on its Subjects: the
	// bridge sequence of each ordered stream, the latest update of each
	// coalescable one waiting for an event, and the subscription each
	// subject is handed on from (a cache). Past it, the stream (or subject)
	// seen least recently is forgotten, counted in ConsumerStats.Evicted: a
	// busy stream is never the one forgotten. A forgotten stream seen again
	// cannot tell what it missed, so, once a stream has been forgotten, a
	// stream first seen midway (a bridge sequence past 1) is announced by a
	// gap marker of unknown count (GapCount 0) before its event; a latest
	// update that finds MaxStreams others waiting is dropped. Least
	// recently seen, because a stream that went silent longest (a symbol
	// delisted, a producer's stray symbols) is the least likely to speak
	// again. A stream numbered per view (layouts 9 and 8) counts once more for
	// itself: it remembers that its views were checked apart (see Losses
	// and gap markers). State costs about 200 bytes a stream, plus the
	// message of a latest update waiting. Defaults to DefaultMaxStreams.
	MaxStreams int
	// OnState sees the NATS connection's state changes after they were
	// published to the dispatcher, from a goroutine of the consumer's (the
	// first, inside NewConsumer). A panic in it is recovered and logged at
	// Error. Defaults to nil.
	OnState func(StateEvent)
	// Logger receives the consumer's state changes at Info (the NATS
	// connection's states, the durable consumer started and stopped) and
	// its faults and losses at Warn (gaps, pool exhaustion, malformed
	// messages, acks not confirmed) — the first of a kind and then each
	// time its total doubles, never once per message — with the keys
	// "durable", "subject", "venue", "symbol", "count" and "total".
	// Its handler runs on a goroutine of its own for each record, the
	// bridge's waiting: a panic or runtime.Goexit in it drops the record
	// and harms nothing else. It must not block: the goroutine that logs
	// waits for it (the Consumer's loop, the durable consumer's delivery,
	// the Publisher's storing of reports, the dispatcher's delivery to the
	// Publisher), and is held up until it returns, as with slog's own
	// handlers; what comes meanwhile waits within the bridge's bounds
	// (ConsumerOptions.PendingMsgs, nats.go's pending limits,
	// PublisherOptions.Lanes, ExecBound's alarm), past which market data
	// is dropped and announced as a slow consumer's is (execution reports
	// wait, never dropped). A handler that may stall (a remote sink)
	// belongs behind a buffer of the host's. Defaults to nil: silent.
	Logger *slog.Logger
}

// ConsumerStats are a Consumer's counters.
type ConsumerStats struct {
	Received      uint64 // core NATS messages received
	Duplicates    uint64 // of those, second copies of one message through overlapping Subjects (dropped)
	Delivered     uint64 // of those, published to the dispatcher
	Gaps          uint64 // gap markers published
	Lost          uint64 // ordered-stream messages the gap markers account for
	SlowDropped   uint64 // messages NATS dropped because this consumer fell behind
	PoolDropped   uint64 // messages dropped because the event pool was exhausted (market data shows in gap markers)
	Malformed     uint64 // messages that did not decode (dropped; execution reports are terminated and announced by a gap marker)
	ExecDelivered uint64 // execution reports, order acks and account updates published to the dispatcher
	ExecDuplicate uint64 // redeliveries dropped because the id was already handed on
	AckErrors     uint64 // acks (and Terms) the server did not confirm within AckWait (the report may come again, then dropped as a duplicate)
	ExecReturned  uint64 // reports delivered to a consumer closing, handed back (Nak) for its next incarnation
	Evicted       uint64 // streams forgotten to keep within MaxStreams: sequence states, and latest updates dropped (those also in PoolDropped)
	// VenuesForgotten counts venues forgotten past the 256 whose
	// subscribers a lost link is told to (the least recently seen): a
	// venue forgotten and silent since is not told (see Connection state).
	VenuesForgotten uint64
	// ExecLost counts execution reports (order acks, account updates)
	// removed from the stream before this Consumer read them — a purge,
	// the stream's MaxAge or another limit, the stream deleted or lost
	// with its server — as far as it can tell (at least that many; see
	// "Execution reports: the guarantee"): announced by gap markers.
	ExecLost    uint64
	ExecResumed uint64 // times the durable consumer was found gone (deleted, its stream deleted or lost) or stopped, or after a reconnection waiting for the ack of a report it delivered into the lost link, or at start waiting for the ack of a report it delivered to a predecessor, or, once a Consume the resumer stopped (a refused pull) had closed, waiting for the ack of a report that Consume dropped unreceived (counted besides the stop: such a refusal counts 2), and made to deliver again
}

// Consumer feeds a local dispatcher from NATS: market data and control
// events from core NATS subscriptions, execution reports and order acks from
// a JetStream durable consumer. Each message is decoded into an event from
// the dispatcher's pool and published, so the far side has the same
// ownership rules, lanes, coalescing and gap markers as the near side.
//
// A lost message of an ordered stream (trades, book diffs...), whether NATS
// dropped it on a slow consumer, the publisher could not send it, or the
// connection was down, shows as a jump of the stream's bridge sequence and is
// reported by a gap marker (schema.EventGap) ahead of the next event of the
// stream. The NATS connection's states are published as schema.EventConnState
// events with the Venue StateVenue.
//
// Every core message is handed on once, in the order the server sent it,
// whatever the Subjects (overlapping filters make the server send a message
// once per filter that matches: the consumer keeps the copy of the first).
// When the host's event pool is exhausted, a lost market data event is
// still announced: the gap marker is published before the next event of
// its stream, in that event's place if no other event is free.
//
// A Consumer is safe for concurrent use. It starts two goroutines for core
// messages (one moves them from nats.go into its bounded queue, one hands
// them on) and one for state changes, and nats.go delivers execution
// reports on its own; Close stops them.
type Consumer struct {
	nc     *nats.Conn
	d      *dispatch.Dispatcher
	events *pool.Pool[*schema.CanonicalEvent]
	opts   ConsumerOptions
	log    *slog.Logger
	subs   []*nats.Subscription
	core   []string       // the core subscriptions' filters: Subjects, then their venue-wide companions
	msgs   chan *nats.Msg // every subscription's messages, in the server's order
	q      *msgQueue      // what waits for onMsg, bounded by PendingMsgs and PendingBytes
	pumped chan struct{}  // closed when the pump has exited
	quit   chan struct{}  // closed by Close: the loop exits
	loop   chan struct{}  // closed when the loop has exited
	cc     jetstream.ConsumeContext
	w      *watcher
	closed atomic.Bool

	mu       sync.Mutex // core delivery
	dec      wire.Decoder
	subjects *lru[string, subjectState]
	// stateSubj carries the NATS connection's states, which are no
	// message received.
	stateSubj subjectState
	seqs      *lru[viewKey, seqState] // ordered streams' bridge sequences, per view
	scratch   wire.Scratch            // decodes a message that found no event, for its stream and sequence
	// held are critical messages (gap markers, states, control) that found
	// no event, in order: they are delivered first, and nothing overtakes
	// them.
	held      []heldMsg
	latest    map[viewKey]*latestMsg // coalescable streams' updates waiting for an event, at most MaxStreams
	holding   atomic.Bool            // something is held: the loop retries it
	heldBytes int                    // the bytes of held messages
	heldFull  atomic.Bool            // held is at its bound: the loop takes nothing from the queue
	heldOver  bool                   // held reached its bound (logged once a run)
	// reserve is an event kept for critical messages and gap markers when
	// the pool is exhausted; refilled after a message while the pool has
	// two events free or more (the last one is left to market data).
	reserve *schema.CanonicalEvent
	// venues are the venues whose market data the Consumer brought (the
	// maxVenues seen most recently), told that their streams may be stale
	// when the connection drops; lastVenue is the last one noted, so that
	// a message of the same venue costs a string comparison, not a lookup.
	venues    *lru[schema.Venue, struct{}]
	lastVenue schema.Venue
	linkUp    bool // the connection's last state was connected
	// natsDrops is the messages nats.go dropped for the subscriptions, as
	// last told (markStale); full is set by the pump when it found
	// nats.go's channel full, where nats.go drops: the loop then looks.
	natsDrops uint64
	full      atomic.Bool
	// A lost connection's markers wait for the messages received before
	// it (in nats.go's channel, the pump's hands or the queue when the
	// state came): staleWhy and staleAt are what markStale tells, once
	// moved, the messages the pump has queued, reaches staleUpTo, what
	// nats.go had handed on when the connection dropped (under mu;
	// stalePending is set meanwhile, for the loop to look with a plain
	// load).
	staleWhy     string
	staleAt      int64
	staleUpTo    uint64
	stalePending atomic.Bool
	moved        atomic.Uint64

	execMu     sync.Mutex // execution report delivery
	execDec    wire.Decoder
	seen       dedup
	execFilter bool // the durable consumer reads the whole stream: keep what Subjects match
	// execLimits: the request limits of the durable consumer an operator
	// made (requestLimits), kept by every update and remake.
	execLimits jetstream.ConsumerConfig
	// Where the durable consumer is in the stream, under execMu, for
	// making it again where it was when it is gone (resume.go).
	execHigh  uint64              // highest stream sequence handled (handed on, dropped as another's or a duplicate, terminated)
	execNaked map[uint64]struct{} // stream sequences handed back (Nak) and not handled since: they come again
	execGaps  seqGaps             // stream sequences at or below the last handled that were not handled (replayed)
	// execDoor holds the reports nats.go has handed to onExec and that
	// wait for execMu: delivered and received, they were not lost in a
	// link (resetLost). One per Consume delivering: after a resume, the
	// old Consume's report and the new one's may wait at once.
	execDoor execDoor
	// The durable consumer's messages pending after the last one it
	// delivered for the first time (its NumPending; execAfterOK: known,
	// not since a redelivery or a resume), to tell those removed from the
	// stream unread (removedBefore), whose venues' subscribers are owed a
	// gap marker (execOwed, by venue: execution reports' venues seen, at
	// most maxVenues). execAfterSeq is that delivery's consumer sequence.
	execAfter    uint64
	execAfterSeq uint64
	execAfterOK  bool
	// execAfterStream is that delivery's stream sequence; execSuspect the
	// reports NumPending says were removed and the stream did not confirm
	// yet (removedBefore, notHeld): a report deleted past the one delivered
	// leaves its sequence between later deliveries.
	execAfterStream uint64
	execSuspect     uint64
	// execSuspectTo: the stream's last sequence when execSuspect last
	// grew (0: not known yet) — a report removed past a delivery was
	// stored then; once deliveries pass it, what is left is an over-count.
	execSuspectTo uint64
	// execWhole: the durable consumer reads every message of the stream
	// (one of durable subjects only, and Subjects cover them all): each
	// stream sequence is one of its messages. Set before each Consume.
	execWhole bool
	// execGen is the generation of the Consume delivering now: 1 for the
	// first, one more at each resume. A delivery of an older one (in
	// progress as the resume stopped it, at the door) is handed back or
	// on (execGenFrom), and its NumPending and consumer sequence are another
	// consumer's (or another Consume's): they do not count (removedBefore).
	execGen uint64
	// execGenFrom: the current Consume's durable consumer delivers again
	// every report from this stream sequence on not yet acknowledged to
	// it (its ack floor, or where it was made again): an older Consume's
	// late delivery at or past it is handed back, to come again in its
	// turn (handed on, it came before earlier reports); one before it,
	// or of another stream (math.MaxUint64: its only copy), or one handled
	// already (execHigh: its copy dropped by its id), is handed on.
	execGenFrom uint64
	// execReplayTo: the durable consumer was made again by another (an
	// operator, DeliverAll or a start sequence of theirs) on the stream
	// read, and delivers again reports handled already; up to this stream
	// sequence (execHigh then), a report not handed back since was handled
	// and is dropped as a duplicate (replayed), as far back as Dedup's ids
	// do not reach. 0: none. Under execMu.
	execReplayTo uint64
	// execRemade counts the deliveries that looked like a consumer made
	// again by another (consumerRemade), execLooked how many of them the
	// resumer had counted when it last read the consumer: while they
	// differ the suspicion is unanswered, and every delivery at or below
	// the last handled is handed back — the one handed back comes again
	// (NumDelivered 2 and on), maybe before the look sets execReplayTo,
	// and handed on then it reached the host twice. Atomic: the resumer
	// reads and answers without execMu, which a report in hand holds (a
	// refusal's restart stops the old Consume first: see resume).
	execRemade atomic.Uint64
	execLooked atomic.Uint64
	// execSuspectNaks counts the deliveries handed back for a suspicion
	// (handBackSuspect) since none was unanswered: each waits twice the
	// one before on the server. Under execMu.
	execSuspectNaks int

	execOwed   uint64
	execVenues *lru[schema.Venue, struct{}]
	execResume execResume
	// asideAcks are the confirmations of acks waited for aside (ackAside)
	// in progress: Close waits for them. asideSlots, of capacity
	// maxAsideAcks, holds one token per such confirmation; asideFull
	// counts the acks confirmed in place because it was full.
	asideAcks  sync.WaitGroup
	asideSlots chan struct{}
	asideFull  atomic.Uint64

	closeOnce sync.Once
	closeErr  error
	slowAtEnd atomic.Uint64 // NATS's drop count when the subscriptions ended
	// life bounds the waits of execution report delivery (an event from
	// the pool, an ack's confirmation): it ends when Close's ctx does.
	life    context.Context
	endLife context.CancelFunc

	received, dupes, delivered, gaps, malformed atomic.Uint64
	execDelivered, execDup, execReturned        atomic.Uint64
	execResumed                                 atomic.Uint64
	execBeatsMissed                             atomic.Uint64 // the Consume's heartbeats missed (ErrNoHeartbeat): each a stall of 10 s
	execLost                                    lossCounter   // reports removed from the stream unread
	lost, poolDropped, ackErrors, badMsgs       lossCounter
	ackUnawaited                                lossCounter // acks not sent again: the durable consumer reset under the report (ackAwaited)
	// execUnawaited: the highest stream sequence whose ack was not sent
	// again (ackAwaited). Past execHigh's reading: handled, yet pending
	// again once the server delivers it again (resetUnreceived).
	execUnawaited             atomic.Uint64
	latestEvicted, seqEvicted lossCounter // past MaxStreams: latest updates dropped, sequence states forgotten
	venuesForgotten           lossCounter // past maxVenues
}

// subjectState is what the consumer keeps per subject.
type subjectState struct {
	subject string
	local   bool   // the consumer's own NATS connection states: not a message received
	via     string // the first of Subjects that matches: copies through other subscriptions are duplicates
}

// latestMsg is the last update of a coalescable stream that found no
// event, delivered once one is free unless a newer one comes first. It is
// kept per stream (venue, symbol, type) and view (a kline's interval),
// not per subject: symbols that share a subject are two streams.
type latestMsg struct {
	st   subjectState
	data []byte
}

// seqState is the bridge sequence of one ordered stream as the consumer
// has seen it. It is kept per stream and view (venue, symbol, type, book
// depth, kline interval), as the Publisher counts it, not per subject: symbols that differ only in
// characters a subject token cannot hold ("BTC.USDT", "BTC_USDT") share a
// subject and are still two streams.
type seqState struct {
	last   uint64 // the last sequence handed on, or announced lost
	run    uint32 // the run last's belongs to (0: none, a publisher of layout 6)
	known  bool   // a message of the stream has been received
	midway bool   // first seen midway once streams were forgotten: the next delivered announces that unknown loss
	viewed bool   // of a stream: its views were checked apart (layouts 9 and 8), so its first message numbered together (7, 6) comes from a Publisher rolled back
}

// heldMsg is a critical message waiting for an event.
type heldMsg struct {
	st   subjectState
	data []byte
}

// maxHeld bounds the critical messages held (with PendingBytes their
// bytes): at it the consumer takes no message from its queue until some
// are delivered. Held messages are never dropped; the queue's own bounds
// then apply (a slow consumer), and the Logger is told once.
const maxHeld = 1024

// heldRetry is how often the loop tries to deliver what is held while no
// message comes.
const heldRetry = 5 * time.Millisecond

// NewConsumer subscribes to the subjects and, with a Durable name, creates
// (or resumes) the durable consumer of execution reports, creating the
// stream if it is missing. events must be the pool d returns events to.
// The first state of the connection is published before it returns.
func NewConsumer(ctx context.Context, nc *nats.Conn, d *dispatch.Dispatcher, events *pool.Pool[*schema.CanonicalEvent], opts *ConsumerOptions) (*Consumer, error) {
	var o ConsumerOptions
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if len(o.Subjects) == 0 {
		o.Subjects = []string{o.Prefix + ".>"}
	}
	// One subscription per distinct filter: a filter names its subscription.
	var subjects []string
	for _, subj := range o.Subjects {
		if !slices.Contains(subjects, subj) {
			subjects = append(subjects, subj)
		}
	}
	o.Subjects = subjects
	// The core subscriptions add, to each filter naming a symbol, the same
	// filter for events without one: a venue's connection states, venue
	// control and venue-wide gap markers pass any symbol list in dispatch,
	// and must cross the bridge to a consumer of some symbols too.
	core := slices.Clone(subjects)
	for _, subj := range subjects {
		if vw, ok := venueWide(subj); ok && !slices.Contains(core, vw) {
			core = append(core, vw)
		}
	}
	o.Stream = o.Stream.withDefaults()
	o.PendingMsgs = orDefault(o.PendingMsgs, DefaultPendingMsgs)
	o.PendingBytes = orDefault(o.PendingBytes, DefaultPendingBytes)
	o.MaxAckPending = orDefault(o.MaxAckPending, DefaultMaxAckPending)
	o.Dedup = orDefault(o.Dedup, DefaultDedup)
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.PoolWait <= 0 {
		o.PoolWait = DefaultPoolWait
	}
	o.MaxStreams = orDefault(o.MaxStreams, DefaultMaxStreams)
	if o.StateVenue == "" {
		o.StateVenue = DefaultStateVenue
	}
	c := &Consumer{nc: nc, d: d, events: events, opts: o, log: logger(o.Logger).With("role", "consumer"),
		msgs: make(chan *nats.Msg, o.PendingMsgs), q: newMsgQueue(o.PendingMsgs, o.PendingBytes),
		quit: make(chan struct{}), loop: make(chan struct{}), pumped: make(chan struct{}),
		core: core, subjects: newLRU[string, subjectState](o.MaxStreams), latest: make(map[viewKey]*latestMsg),
		stateSubj: subjectState{subject: "(connection state)", local: true},
		seqs:      newLRU[viewKey, seqState](o.MaxStreams), seen: newDedup(o.Dedup),
		venues: newLRU[schema.Venue, struct{}](maxVenues), execVenues: newLRU[schema.Venue, struct{}](maxVenues)}
	c.life, c.endLife = context.WithCancel(context.Background())
	c.asideSlots = make(chan struct{}, maxAsideAcks)
	c.execResume.relink = make(chan struct{}, 1)
	c.execResume.naked = make(chan struct{}, 1)
	if o.Durable != "" {
		c.log = c.log.With("durable", o.Durable)
	}
	c.reserve, _ = events.TryGet()
	c.w = watch(nc, c.onState)
	go c.pump()
	go c.run()
	fail := func(err error) (*Consumer, error) {
		_ = c.stop(context.Background())
		return nil, err
	}
	for _, subj := range core {
		// One channel for all: the connection's reader fills it in the
		// order the server sent, and one goroutine empties it.
		s, err := nc.ChanSubscribe(subj, c.msgs)
		if err != nil {
			return fail(fmt.Errorf("natsbridge: subscribe %s: %w", subj, err))
		}
		c.subs = append(c.subs, s)
	}
	// Once the server has the subscriptions, whatever is published after
	// NewConsumer returns reaches them.
	if nc.IsConnected() {
		if err := flush(ctx, nc); err != nil {
			return fail(fmt.Errorf("natsbridge: %w", err))
		}
	}
	if o.Durable != "" {
		if err := c.consumeExec(ctx); err != nil {
			return fail(err)
		}
		c.log.Info("natsbridge: durable consumer started", "subjects", o.Subjects, "stream", o.Stream.Name)
	}
	return c, nil
}

// pump moves the messages nats.go delivers into the bounded queue, until
// Close. It never waits for the consumer, so the channel stays nearly empty.
func (c *Consumer) pump() {
	defer close(c.pumped)
	for {
		select {
		case m := <-c.msgs:
			if len(c.msgs) >= cap(c.msgs)-1 {
				c.full.Store(true) // nats.go may have dropped: the loop looks once the queue is empty
			}
			c.q.push(m)
			c.moved.Add(1)
		case <-c.quit:
			return
		}
	}
}

// run hands the queued messages on, one at a time in the order the server
// sent them, until Close; while something is held for want of an event, it
// retries every heldRetry.
func (c *Consumer) run() {
	ended := false
	defer func() {
		if !ended {
			// Host code ended the goroutine with runtime.Goexit inside the
			// host dispatcher's Publish (its OnCriticalOverflow or Logger,
			// as t.FailNow does): dispatch has delivered the event and the
			// state is unlocked (deferred), so the loop goes on from a new
			// goroutine, or no core message would be handed on again.
			go c.run()
			return
		}
		close(c.loop)
	}()
	retry := time.NewTimer(heldRetry)
	defer retry.Stop()
	for {
		if !c.heldFull.Load() { // else wait until what is held goes
			moved := c.moved.Load() // before pop: what it counts is queued, so popped when pop finds nothing
			if m := c.q.pop(); m != nil {
				c.onMsg(m)
				continue
			}
			if c.stalePending.Load() {
				c.linkLost(moved)
			}
			if c.full.Load() && c.full.Swap(false) { // a plain load while nothing was dropped
				c.natsDropped()
			}
		}
		var again <-chan time.Time
		if c.holding.Load() {
			retry.Reset(heldRetry)
			again = retry.C
		}
		select {
		case <-c.q.wake:
		case <-again:
			c.retryHeld()
		case <-c.quit:
			ended = true
			return
		}
	}
}

// retryHeld delivers what is held, on the retry timer. The unlock is
// deferred: host code in the dispatcher's Publish may end the goroutine
// with runtime.Goexit (see run), and the loop that goes on needs the lock.
func (c *Consumer) retryHeld() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed.Load() {
		c.flushHeld()
	}
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (c *Consumer) consumeExec(ctx context.Context) error {
	js, err := jetstream.New(c.nc)
	if err != nil {
		return fmt.Errorf("natsbridge: %w", err)
	}
	created, only, err := c.ensureExecStream(ctx, js)
	if err != nil {
		return err
	}
	// A durable consumer's filters must not overlap: when Subjects do, it
	// reads the whole stream and the consumer keeps what they match.
	if anyOverlap(c.opts.Subjects) {
		c.execFilter = true
	}
	if cur, err := js.Consumer(ctx, c.opts.Stream.Name, c.opts.Durable); err == nil {
		c.execLimits = requestLimits(cur.CachedInfo())
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, c.opts.Stream.Name, c.execConfig(0))
	if err == nil {
		cons, err = c.fitAckPending(ctx, js, cons)
	}
	if err != nil {
		return fmt.Errorf("natsbridge: durable consumer %s: %w", c.opts.Durable, err)
	}
	c.resetPredecessors(ctx, js, cons.CachedInfo())
	c.removedWhileDown(ctx, js, cons.CachedInfo())
	c.execResume.js = js // before the first delivery: removedBefore asks the stream
	// Before the first Consume: its error handler and deliveries signal them.
	c.execResume.trouble, c.execResume.stopped = make(chan struct{}, 1), make(chan struct{}, 1)
	c.execWhole = only && c.readsWholeStream()
	c.execMu.Lock()
	c.execGen, c.execGenFrom = 1, redeliversFrom(cons)
	if info := cons.CachedInfo(); info != nil {
		c.execGaps.reset(info.AckFloor.Stream) // at or below: handled by a predecessor
	}
	c.execMu.Unlock()
	c.execResume.consCreated = cons.CachedInfo().Created
	if c.cc, err = c.consume(cons, 1); err != nil {
		return err
	}
	c.startResume(created)
	return nil
}

// resetPredecessors resets the durable consumer to its ack floor when, as
// info read it before this Consumer consumes, the server waits for the ack
// of a report: none is in this Consumer's hands, so it was delivered to a
// predecessor — one whose Close ended (its ctx) while the ack was still
// sent again into a dying link, or whose process ended — and the server,
// which delivers MaxAckPending (1) at a time, held it and every later
// report for a whole AckWait (30 s by default) before delivering it again.
// Reset, it comes again at once (a report handed on whose ack was not
// confirmed comes twice: at least once). A failed reset (a server older
// than 2.14) is logged; the report then comes after AckWait. A Consumer
// that starts while another reads the Durable (see ConsumerOptions.Durable:
// the server holds that one's pull requests, NumWaiting; a closed
// connection's it drops) resets nothing — the report may be in the live
// one's hands, and delivered again it could reach both nodes, whose
// dedups do not share ids — and logs the Durable shared at Warn. (A
// predecessor whose host vanished without closing its connection reads as
// live until the server's pings give it up: its report comes after
// AckWait.)
func (c *Consumer) resetPredecessors(ctx context.Context, js jetstream.JetStream, info *jetstream.ConsumerInfo) {
	if info == nil || info.NumAckPending == 0 {
		return
	}
	if info.NumWaiting > 0 {
		c.log.Warn("natsbridge: another Consumer reads the durable consumer; reports are split between them, and one unacknowledged is not delivered again at start", "stream", c.opts.Stream.Name, "pending", info.NumAckPending, "waiting", info.NumWaiting)
		return
	}
	if _, err := js.ResetConsumer(ctx, c.opts.Stream.Name, c.opts.Durable); err != nil {
		c.log.Warn("natsbridge: resetting the durable consumer at start failed; reports delivered to a predecessor and not acknowledged come after AckWait", "pending", info.NumAckPending, "error", err)
		return
	}
	c.execResumed.Add(1)
	c.log.Warn("natsbridge: reports delivered to a predecessor and not acknowledged; delivered again", "stream", c.opts.Stream.Name, "pending", info.NumAckPending)
}

// execConfig is the durable consumer's configuration, starting at stream
// sequence start (0: the stream's first).
func (c *Consumer) execConfig(start uint64) jetstream.ConsumerConfig {
	filters := c.opts.Subjects
	if c.execFilter {
		filters = nil
	}
	cfg := jetstream.ConsumerConfig{
		Durable:        c.opts.Durable,
		Description:    "Meltica execution reports for one consumer node",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.opts.AckWait,
		MaxAckPending:  ackPendingWithin(&jetstream.ConsumerInfo{Config: c.execLimits}, c.opts.MaxAckPending),
		FilterSubjects: filters,
		// The operator's, if any: MaxWaiting cannot be updated, the
		// others would be erased.
		MaxWaiting:         c.execLimits.MaxWaiting,
		MaxRequestBatch:    c.execLimits.MaxRequestBatch,
		MaxRequestExpires:  c.execLimits.MaxRequestExpires,
		MaxRequestMaxBytes: c.execLimits.MaxRequestMaxBytes,
	}
	if start > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	return cfg
}

// consume starts delivering the durable consumer's reports to onExec,
// tagged with generation gen (execGen when it starts); the errors that
// may mean it is gone wake the resumer.
//
// It keeps MaxAckPending+1 reports asked for (PullMaxMessages; nats.go's
// default is 500), or fewer within the consumer's limits (pullLimits), and
// pulls again for each report handled (PullThresholdMessages at the same:
// by default half of it). A pull stays waiting on the server while
// MaxAckPending reports are in hand (NumWaiting: a live reader, see
// resetPredecessors), and at most that many pulls wait.
//
// A purge, or a stream limit, that removes the reports delivered and
// waiting for their acks does not wake the durable consumer's delivery
// loop on the server, held by MaxAckPending, and the acks that follow, of
// reports it no longer waits for, wake nothing either (nats-server consumer.go: purge clears the pending
// reports without a signal; processAckMsg signals only for a report still
// pending); a pull request does (processNextMsgRequest). With a pull of
// 500 still open, the loop slept until its next idle heartbeat (half of
// execPullExpiry: 5 s) and the report stream stalled
// (TestS38natsPurgeNextReportAtOnce).
//
// The pulls obey the durable consumer's request limits, as its info read
// them (pullLimits): a pull past one is refused or dropped by the server,
// which nats.go never counts back — the reports stalled.
func (c *Consumer) consume(cons jetstream.Consumer, gen uint64) (jetstream.ConsumeContext, error) {
	batch, expiry := pullLimits(cons.CachedInfo(), c.opts.MaxAckPending)
	cc, err := cons.Consume(func(m jetstream.Msg) { c.onExec(m, gen) }, jetstream.PullExpiry(expiry),
		jetstream.PullMaxMessages(batch), jetstream.PullThresholdMessages(batch),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { c.execTrouble(err) }))
	if err != nil {
		return nil, fmt.Errorf("natsbridge: consume %s: %w", c.opts.Durable, err)
	}
	return cc, nil
}

// requestLimits returns the request limits of a durable consumer already
// there as info read it (an operator's, or a Consumer's of the Durable
// before): MaxWaiting, which the server will not update ("max waiting can
// not be updated": NewConsumer failed on one made with another), and
// MaxRequestBatch, MaxRequestExpires and MaxRequestMaxBytes, which an
// update without them erased. The Consumer's own settings (AckWait,
// MaxAckPending, filters) still replace the operator's.
func requestLimits(info *jetstream.ConsumerInfo) jetstream.ConsumerConfig {
	if info == nil {
		return jetstream.ConsumerConfig{}
	}
	return jetstream.ConsumerConfig{MaxWaiting: info.Config.MaxWaiting, MaxRequestBatch: info.Config.MaxRequestBatch,
		MaxRequestExpires: info.Config.MaxRequestExpires, MaxRequestMaxBytes: info.Config.MaxRequestMaxBytes}
}

// fitAckPending keeps the MaxAckPending of the durable consumer cons
// under the reports its pulls may ask for (pullLimits): MaxAckPending, or
// one less than a request limit that caps the pull at it or below (the
// server's max_request_batch, an operator's MaxRequestBatch or
// MaxWaiting). A pull capped at MaxAckPending or less was delivered whole
// while the reports were in the Consumer's hands, and none waited on the
// server (NumWaiting 0): a second Consumer starting on the Durable took
// this live one for a dead predecessor and reset the durable consumer
// (resetPredecessors) — the reports in its hands came to both nodes
// (TestS40natsCappedPullStillWaits). A cap of 1 leaves MaxAckPending 1,
// and no pull waits while a report is in hand. It records the
// consumer's request limits (execLimits) as cons's info read them, and
// returns the consumer to read: cons, or cons updated.
func (c *Consumer) fitAckPending(ctx context.Context, js jetstream.JetStream, cons jetstream.Consumer) (jetstream.Consumer, error) {
	info := cons.CachedInfo()
	if info == nil {
		return cons, nil
	}
	c.execLimits = requestLimits(info)
	want := ackPendingWithin(info, c.opts.MaxAckPending)
	if info.Config.MaxAckPending == want {
		return cons, nil
	}
	cfg := info.Config
	cfg.MaxAckPending = want
	return js.UpdateConsumer(ctx, c.opts.Stream.Name, cfg)
}

// ackPendingWithin returns the MaxAckPending of a durable consumer whose
// configuration info read, for the Consumer's maxAck: below the pull's
// cap (pullLimits), at least 1. See fitAckPending.
func ackPendingWithin(info *jetstream.ConsumerInfo, maxAck int) int {
	batch, _ := pullLimits(info, maxAck)
	return max(min(maxAck, batch-1), 1)
}

// pullLimits returns the reports the Consume keeps asked for (batch) and
// how long a pull lives (expiry), for a durable consumer of maxAck
// reports pending whose configuration info read: maxAck+1 and
// execPullExpiry, within the consumer's request limits (nats-server
// consumer.go processNextMsgRequest; NATS ADR-13, pull requests; nats.js
// ExceededLimits):
//
//   - MaxWaiting (512 unless set, and fixed once the consumer exists: "max
//     waiting can not be updated"): "pulls received after this is reached
//     are ignored" (NATS .NET ConsumerConfig.MaxWaiting) — without a word
//     when they ask for heartbeats, as nats.go's do (a 409 "Exceeded
//     MaxWaiting" otherwise). Each pull asks for one
//     report or more, so a batch of at most MaxWaiting keeps at most
//     MaxWaiting pulls waiting; past it, the pull sent as a report is
//     handled, which wakes the server's delivery loop after a purge (see
//     above), could be the one dropped.
//   - MaxRequestBatch (an operator's, or the server's or account's
//     JetStream limit max_request_batch, which the server gives every
//     consumer made without one; docs.nats.io, "JetStream limits"): a
//     pull asking for more is refused (409 "Exceeded MaxRequestBatch"),
//     which nats.go reports as a plain error and does not count back: no
//     report was delivered at all, for good.
//   - MaxRequestExpires: a pull living longer is refused likewise; under
//     1 s (nats.go's least expiry) Consume fails and so does NewConsumer
//     (or the resume, retried and logged).
//
// MaxRequestMaxBytes limits only pulls that ask for bytes, which these
// never do. MaxAckPending itself above a stream's, the account's or the
// server's limit is refused when the consumer is made
// (JSConsumerMaxPendingAckExcessErr, error code 10121): NewConsumer
// returns the server's error.
func pullLimits(info *jetstream.ConsumerInfo, maxAck int) (batch int, expiry time.Duration) {
	batch, expiry = maxAck+1, execPullExpiry
	if info == nil {
		return batch, expiry
	}
	if w := info.Config.MaxWaiting; w > 0 {
		batch = min(batch, w)
	}
	if b := info.Config.MaxRequestBatch; b > 0 {
		batch = min(batch, b)
	}
	if e := info.Config.MaxRequestExpires; e > 0 {
		expiry = min(expiry, e)
	}
	return batch, expiry
}

// subject returns the state of a subject, the first time (or the first
// since it was forgotten) choosing the subscription that hands its
// messages on. The pointer is valid until the next call.
func (c *Consumer) subject(subj string) *subjectState {
	st, ok := c.subjects.get(subj)
	if !ok {
		st.subject = subj
		for _, f := range c.core {
			if overlap(f, subj) {
				st.via = f
				break
			}
		}
	}
	return st
}

// onMsg runs on the consumer's goroutine, one message at a time in the
// server's order.
func (c *Consumer) onMsg(m *nats.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return
	}
	c.received.Add(1)
	st := c.subject(m.Subject)
	if m.Sub == nil || m.Sub.Subject != st.via {
		c.dupes.Add(1) // the same message through another, overlapping filter
		return
	}
	typ, ok := wire.Type(m.Data)
	if durableSubject(m.Subject) || ok && durable(typ) {
		return // the durable consumer delivers these, once (and announces those it cannot decode)
	}
	if typ == schema.EventGap && len(c.latest) > 0 {
		c.dropOvertaken(m.Data)
	}
	defer c.flushHeld()
	var ev *schema.CanonicalEvent
	if len(c.held) == 0 || c.deliverHeld() { // nothing overtakes a held message
		ev = c.take(typ.Critical())
	}
	if ev == nil {
		c.shelve(st, typ, m.Data)
		return
	}
	c.deliver(st, m.Data, ev)
}

// dropOvertaken drops the coalescable streams' updates waiting for an
// event (latest) that the gap marker in data reports on: they came before
// it, so from before the loss it announces, and the marker, critical, is
// delivered ahead of them: delivered after it, such an update passed for
// its stream's state after the loss. What the marker covers is what
// dispatch drops of a queue it overtakes: its stream (view included) when
// it names a coalescable type and a symbol, every symbol's of the venue
// it names a coalescable type and a symbol (for tickers, a marker naming
// no window and stating none: every window's), every symbol's of the venue
// no type. Updates that come after the marker are kept.
func (c *Consumer) dropOvertaken(data []byte) {
	if _, _, err := c.dec.DecodeScratch(data, &c.scratch); err != nil {
		return // malformed: counted where it is delivered
	}
	g := &c.scratch.CanonicalEvent
	t := g.GapType()
	if t != schema.EventUnknown && !t.Coalescable() {
		return
	}
	// A marker about a symbol's tickers that names no window and states
	// none is about every window's (dispatch reads it so: see
	// schema.Ticker.Window): the scan below, by venue, symbol and type.
	everyWindow := t == schema.EventTicker && g.TickerWindow() == "" && g.TickerWindowClose() == 0
	if t != schema.EventUnknown && g.Symbol != "" && !everyWindow {
		vk, other := quoteView(streamKey{g.Venue, g.Symbol, t}, g)
		delete(c.latest, vk)
		if g.TickerWindowClose() == 0 {
			// A marker that states no window's bounds is about the
			// symbol's tickers of its window (Ticker.Window, in vk), both
			// kinds; one that states them (a subscriber queue's about a
			// full ticker, relayed) about the full ticker only.
			delete(c.latest, other)
		}
		return
	}
	for k := range c.latest {
		if k.venue == g.Venue && (t == schema.EventUnknown || k.typ == t) && (g.Symbol == "" || k.symbol == g.Symbol) {
			delete(c.latest, k)
		}
	}
}

// take returns a free event, for a critical message the reserve if none
// is, or nil.
func (c *Consumer) take(critical bool) *schema.CanonicalEvent {
	if ev, err := c.events.TryGet(); err == nil {
		return ev
	}
	if ev := c.reserve; critical && ev != nil {
		c.reserve = nil
		return ev
	}
	return nil
}

// shelve deals with a message that found no event: a critical one is held
// (delivered first once an event is free), a coalescable one kept as its
// stream's latest, an ordered one dropped without moving its stream's
// sequence, so that the next message announces it with a gap marker.
func (c *Consumer) shelve(st *subjectState, typ schema.EventType, data []byte) {
	c.poolDropped.add(c.log, 1, "natsbridge: event pool exhausted; market data dropped and announced, critical messages delayed", "subject", st.subject)
	switch {
	case typ.Critical():
		c.hold(st, append([]byte(nil), data...))
	case typ.Coalescable():
		if _, _, err := c.dec.DecodeScratch(data, &c.scratch); err != nil {
			break // malformed: no stream to keep it for
		}
		k, _ := quoteView(streamKey{c.scratch.Venue, c.scratch.Symbol, c.scratch.Type}, &c.scratch.CanonicalEvent)
		l := c.latest[k]
		if l == nil {
			if len(c.latest) >= c.opts.MaxStreams {
				c.latestEvicted.add(c.log, 1, "natsbridge: more coalescable streams waiting for the event pool than MaxStreams; updates dropped", "venue", k.venue, "symbol", k.symbol)
				break
			}
			l = new(latestMsg)
			c.latest[k] = l
		}
		l.st, l.data = *st, append(l.data[:0], data...)
	default:
		// The first message of a stream sets where the stream starts: lost
		// here, it is announced by the next one like any other loss.
		if seq, run, err := c.dec.DecodeScratch(data, &c.scratch); err == nil && seq != 0 {
			vk, perView := c.numbered(data, &c.scratch.CanonicalEvent)
			if ss := c.seqOf(vk); !ss.known {
				ss.last, ss.run, ss.known = seq-1, run, true
				ss.midway = seq > 1 && c.seqs.evicted > 0
				if c.replacedLayout(vk, perView) {
					ss.last = 0 // a new Publisher's run: its messages before this one lost too (see deliver)
				}
			}
		}
	}
	c.holding.Store(true)
}

// streamType is the type of the stream whose bridge sequence ev carries:
// its own, or for a gap marker of market data the type it reports on (it
// travels with that stream, numbered in it).
func streamType(ev *schema.CanonicalEvent) schema.EventType {
	if t := ev.GapType(); ev.Type == schema.EventGap && t != schema.EventUnknown && !t.Critical() {
		return t
	}
	return ev.Type
}

// numbered returns what the bridge sequence of ev, decoded from data,
// counts in: its view of its stream (layouts 9 and 8), or its stream, views
// together (layouts 7 and 6, numbered so by their Publishers): checked
// per view, two views of a layout-7 stream interleaved read as a loss at
// every message. perView tells which. The first message of a view of a
// stream (a book's depth, a kline's interval, a ticker's window) numbered apart marks the
// stream viewed (see replacedLayout).
func (c *Consumer) numbered(data []byte, ev *schema.CanonicalEvent) (vk viewKey, perView bool) {
	sk := viewKey{streamKey: streamKey{ev.Venue, ev.Symbol, streamType(ev)}}
	if !wire.PerView(data) {
		return sk, false
	}
	if vk = viewOf(sk.streamKey, ev); vk != sk && c.seqs.m[vk] == nil {
		c.seqOf(sk).viewed = true // before vk's state is taken, so as not to forget it at MaxStreams 1
	}
	return vk, true
}

// replacedLayout tells whether vk, first seen, comes from a Publisher that
// replaced one of the other layout (WireVersion is set once per Publisher),
// whose run counts it from 1: a view numbered apart (layouts 9 and 8) of a stream
// the Consumer checked with its views together (7 or 6), or a stream
// numbered together whose views it checked apart (the rollback from 9 or 8 to
// 7 the docs allow). It records nothing.
func (c *Consumer) replacedLayout(vk viewKey, perView bool) bool {
	sk := viewKey{streamKey: vk.streamKey}
	n := c.seqs.m[sk]
	if perView {
		return vk != sk && n != nil && n.val.known
	}
	return n != nil && n.val.viewed
}

// seqOf returns the sequence state of a view of a stream (valid until the
// next call).
func (c *Consumer) seqOf(k viewKey) *seqState {
	before := c.seqs.evicted
	ss, _ := c.seqs.get(k)
	if c.seqs.evicted != before {
		c.seqEvicted.add(c.log, 1, "natsbridge: more streams than MaxStreams; the least recently seen forgotten (its next message midway announced by a gap marker of unknown count)", "venue", k.venue, "symbol", k.symbol)
	}
	return ss
}

// deliver decodes data into ev and publishes it, announcing a loss of its
// ordered stream first.
func (c *Consumer) deliver(st *subjectState, data []byte, ev *schema.CanonicalEvent) {
	seq, run, err := c.dec.DecodeRun(data, ev)
	if err != nil {
		c.events.Put(ev)
		c.malformed.Add(1)
		c.badMsgs.add(c.log, 1, "natsbridge: malformed messages dropped", "subject", st.subject, "error", err)
		return
	}
	if ev.Type.Coalescable() && len(c.latest) > 0 {
		vk, _ := quoteView(streamKey{ev.Venue, ev.Symbol, ev.Type}, ev)
		delete(c.latest, vk) // delivered, or superseded
	}
	if !ev.Type.Critical() && ev.Venue != c.lastVenue {
		c.noteVenue(ev.Venue)
	}
	if typ := streamType(ev); seq != 0 && !typ.Coalescable() && !typ.Critical() {
		vk, perView := c.numbered(data, ev)
		ss := c.seqOf(vk)
		last, lastRun, known, midway := ss.last, ss.run, ss.known, ss.midway
		if !known {
			// A stream first seen midway may be one forgotten (MaxStreams):
			// what it missed is unknown.
			midway = seq > 1 && c.seqs.evicted > 0
		}
		ss.last, ss.run, ss.known, ss.midway = seq, run, true, false
		lost, why := uint64(0), ""
		switch {
		case midway:
			why = "the stream's state was forgotten, MaxStreams" // whatever it missed while forgotten comes on top
		case !known && c.replacedLayout(vk, perView):
			// A view first seen under layout 9 or 8 of a stream checked under 7
			// or 6, views together, or the other way round: its Publisher
			// was replaced by one of the other layout, whose run counts
			// from 1, so its messages before this one were lost, as a
			// restart under one layout tells it.
			lost = seq - 1
		case known && ((run != 0 && run != lastRun) || seq <= last):
			// The publisher started the stream over (a restart, or it
			// forgot the stream): the new run counts from 1, so its
			// messages before this one were lost. The run tells it even
			// when this one numbers past the old run's last (layout 6,
			// which names no run, took that for a continuation, or for a
			// loss of the difference); what the old run sent after last
			// cannot be told.
			lost = seq - 1
		case known && seq > last+1:
			lost = seq - last - 1
		}
		if lost > 0 || why != "" {
			if ev = c.gap(ev, vk, lost, why); ev == nil {
				return
			}
		}
	}
	c.publish(ev, !st.local)
}

// publish hands ev on, counted in Delivered if counted (a message
// received, not the Consumer's own state). Host code in the dispatcher's
// Publish (its OnCriticalOverflow, its Logger) may end the goroutine with
// runtime.Goexit once dispatch has delivered ev (see run): ev is counted
// then too, deferred.
func (c *Consumer) publish(ev *schema.CanonicalEvent, counted bool) {
	returned := false
	defer func() {
		if !returned && counted {
			c.delivered.Add(1)
		}
	}()
	err := c.d.Publish(context.Background(), ev)
	returned = true
	if err == nil && counted {
		c.delivered.Add(1)
	}
}

// deliverHeld delivers the held critical messages, in order, while events
// are free, and reports whether none is left.
func (c *Consumer) deliverHeld() bool {
	for len(c.held) > 0 {
		ev := c.take(true)
		if ev == nil {
			return false
		}
		h := c.held[0]
		c.held[0] = heldMsg{}
		c.held = c.held[1:]
		c.heldBytes -= len(h.data)
		c.heldFull.Store(false)
		c.deliver(&h.st, h.data, ev)
	}
	c.held, c.heldOver, c.heldBytes = nil, false, 0
	return true
}

// flushHeld delivers what is held while events are free — the critical
// messages first, then the latest updates of coalescable streams — and
// then refills the reserve.
func (c *Consumer) flushHeld() {
	if c.holding.Load() && c.deliverHeld() && len(c.latest) > 0 {
		for k, l := range c.latest {
			ev := c.take(false)
			if ev == nil {
				break
			}
			delete(c.latest, k)
			c.deliver(&l.st, l.data, ev)
		}
	}
	c.holding.Store(len(c.held) > 0 || len(c.latest) > 0)
	if len(c.held) >= maxHeld || (len(c.held) > 0 && c.heldBytes >= c.opts.PendingBytes) {
		c.heldFull.Store(true)
		if !c.heldOver {
			c.heldOver = true
			c.log.Warn("natsbridge: critical messages waiting for the event pool at the bound; kept, and no more taken from the queue until they go",
				"held", len(c.held), "bound", maxHeld)
		}
	}
	// The reserve takes an event while the pool has two free or more: the
	// last one is left to market data.
	if c.reserve == nil && c.events.Capacity()-int(c.events.Stats().InUse) >= 2 {
		c.reserve, _ = c.events.TryGet()
	}
}

// gap announces n events lost before ev of view k (0: a loss of unknown
// count, for the reason why): it publishes a gap marker about k, naming
// its view (Book.Depth, Kline.Interval, Ticker.Window) as dispatch's markers do, ahead
// of ev and returns ev to be published. When the pool has no event for
// the marker, ev itself becomes the marker (counting itself lost too) and
// gap returns nil: a loss is never left unannounced.
func (c *Consumer) gap(ev *schema.CanonicalEvent, k viewKey, n uint64, why string) *schema.CanonicalEvent {
	venue, symbol, typ := k.venue, k.symbol, k.typ
	g := c.take(true)
	if g == nil {
		g, ev = ev, nil
		if n > 0 {
			n++
		}
		g.Reset()
	}
	c.lost.add(c.log, n, "natsbridge: events lost between ingest and consumer, announced by gap markers", "venue", venue, "symbol", symbol)
	g.Venue, g.Symbol, g.Type = venue, symbol, schema.EventGap
	k.name(g) // its view: Book.Depth, Kline.Interval or Ticker.Window
	g.IngestTS = time.Now().UnixNano()
	count := "an unknown number of events (" + why + ")"
	if n > 0 {
		count = strconv.FormatUint(n, 10)
	}
	*g.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: typ, GapCount: n, GapSource: schema.GapRelay,
		Reason: "natsbridge: " + count + " lost between ingest and consumer"}
	returned := false
	defer func() {
		if !returned {
			// Host code ended the goroutine inside the marker's Publish
			// with runtime.Goexit (see run): dispatch delivered the
			// marker, and ev, which it goes before, is handed on still
			// (else it was lost unannounced and never went back to its
			// pool).
			c.gaps.Add(1)
			if ev != nil {
				c.publish(ev, true)
			}
		}
	}()
	err := c.d.Publish(context.Background(), g)
	returned = true
	if err == nil {
		c.gaps.Add(1)
	}
	return ev
}

func (c *Consumer) getWait() (*schema.CanonicalEvent, error) {
	ctx, cancel := context.WithTimeout(c.life, c.opts.PoolWait)
	defer cancel()
	return c.events.Get(ctx)
}

// onExec runs on the durable consumer's delivery goroutine. A report is
// acknowledged once the dispatcher has queued it for every subscriber; it is
// handed back (Nak, so that the server delivers it again at once) when it
// could not be handed on, and when the consumer is closing: the next
// incarnation gets it without waiting for AckWait.
//
// gen is the generation of the Consume that delivered m (see execGen).
func (c *Consumer) onExec(m jetstream.Msg, gen uint64) {
	var seq uint64
	meta, err := m.Metadata()
	if err == nil {
		seq = meta.Sequence.Stream
	}
	c.execDoor.enter(seq)
	c.execMu.Lock()
	defer c.execMu.Unlock()
	c.execDoor.leave(seq)
	c.execLocked(m, meta, seq, gen)
}

// execLocked is onExec past the door: m, of metadata meta (nil when it
// has none) and stream sequence seq, delivered by the Consume of
// generation gen. Under execMu.
func (c *Consumer) execLocked(m jetstream.Msg, meta *jetstream.MsgMetadata, seq, gen uint64) {
	if c.closed.Load() {
		c.execReturned.Add(1)
		_ = m.Nak()
		return
	}
	if gen != c.execGen && seq > c.execHigh && seq >= c.execGenFrom {
		c.handBack(m) // the current consumer delivers it again, in order
		return
	}
	id := c.idOf(m.Headers().Get(jetstream.MsgIDHeader))
	if c.execRemade.Load() == c.execLooked.Load() {
		c.execSuspectNaks = 0 // no suspicion unanswered: a hand-back for the next waits the least
	}
	if (id == "" || !c.seen.has(id)) && c.consumerRemade(meta, gen) {
		c.handBackSuspect(m) // the resumer looks; the consumer read delivers it again
		return
	}
	wanted := !c.execFilter || c.wanted(m.Subject())
	c.removedBefore(meta, m.Subject(), wanted, gen)
	c.nakedPassed(meta)
	if !c.announceRemoved() {
		c.handBack(m) // after the marker: the reports lost came before it
		return
	}
	if !wanted {
		c.ackAside(m) // another node's: the whole stream is read because Subjects overlap
		return
	}
	if id != "" && c.seen.has(id) || c.replayed(seq) {
		c.execDup.Add(1)
		c.ackAside(m)
		return
	}
	ev, err := c.getWait()
	if err != nil {
		if c.closed.Load() {
			c.execReturned.Add(1) // the wait ended with Close
		} else {
			c.poolDropped.add(c.log, 1, "natsbridge: event pool exhausted, execution report handed back", "subject", m.Subject())
		}
		c.handBack(m)
		return
	}
	if _, err := c.execDec.Decode(m.Data(), ev); err != nil {
		// Terminated, or it would hold every later report; the host is
		// told, so that it asks the venue rather than wait for it.
		ev.Reset()
		undecodable(ev, c.opts.Prefix, m.Subject(), err)
		if !c.publishExec(ev) {
			c.handBack(m)
			return
		}
		c.gaps.Add(1)
		c.malformed.Add(1)
		c.badMsgs.add(c.log, 1, "natsbridge: malformed execution report terminated, announced by a gap marker", "subject", m.Subject(), "error", err)
		c.terminate(m)
		return
	}
	if !c.publishExec(ev) {
		c.handBack(m)
		return
	}
	c.delivered1(m, id)
}

// publishExec hands ev, a durable message's event, to the host's
// dispatcher and reports whether it took it. Publish runs host code (the
// dispatcher's OnCriticalOverflow and Logger): it runs on a goroutine of
// its own (hostCall), the caller waiting, so that a runtime.Goexit there
// (t.FailNow in a test's callback), which dispatch survives with ev
// delivered, ends that goroutine and not nats.go's that delivers the
// durable consumer's reports. Ended, that one left the next report the
// server sent it waiting out AckWait (30 s by default) before it came
// again. Durable messages are few next to market data: a goroutine each
// costs nothing that counts. A panic that dispatch did not recover goes
// on.
func (c *Consumer) publishExec(ev *schema.CanonicalEvent) bool {
	var err error
	if p, _ := hostCall(func() { err = c.d.Publish(context.Background(), ev) }); p != nil {
		panic(p)
	}
	return err == nil
}

// delivered1 records the report m, of message id id, handed on, and
// acknowledges it. Under execMu.
func (c *Consumer) delivered1(m jetstream.Msg, id string) {
	c.execDelivered.Add(1)
	if id != "" {
		c.seen.add(id)
	}
	c.ack(m)
}

// undecodable fills ev as the gap marker of one durable message (an
// execution report, order ack or account update) on subject subj that did
// not decode: its venue, symbol and type are the subject's tokens.
func undecodable(ev *schema.CanonicalEvent, prefix, subj string, err error) {
	typ := schema.EventExecReport
	if rest, ok := strings.CutPrefix(subj, prefix+"."); ok {
		if tok := strings.Split(rest, "."); len(tok) == 3 {
			ev.Venue = schema.Venue(tok[0])
			if tok[1] != "_" {
				ev.Symbol = tok[1]
			}
			for _, t := range durableTypes {
				if t.String() == tok[2] {
					typ = t
				}
			}
		}
	}
	ev.Type = schema.EventGap
	ev.IngestTS = time.Now().UnixNano()
	*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: typ, GapCount: 1, GapSource: schema.GapRelay,
		Reason: "natsbridge: undecodable " + typ.String() + " terminated: " + err.Error()}
}

// wanted reports whether one of Subjects matches subj.
func (c *Consumer) wanted(subj string) bool {
	for _, f := range c.opts.Subjects {
		if overlap(f, subj) {
			return true
		}
	}
	return false
}

// ackRetry is how long the Consumer waits for the server to confirm an
// ack before it sends the ack again (within AckWait).
const ackRetry = time.Second

// ack waits for the server to confirm the ack, so that once Close has
// returned no report handed on is delivered again to the next incarnation.
// See confirm.
func (c *Consumer) ack(m jetstream.Msg) {
	c.handled(m)
	c.confirm(m, m.DoubleAck)
}

// maxAsideAcks bounds the acks whose confirmations a Consumer waits for
// aside (ackAside) at once: past it, under a storm of duplicates (a
// durable consumer reset, or made again, delivering again up to its
// MaxAckPending reports at a time with their confirmations slow to come)
// or of other nodes' reports, an ack is confirmed in place, as a report
// handed on is — the delivery waits for its confirmation (a round trip),
// not for a goroutine more.
const maxAsideAcks = 32

// ackAside acknowledges m, a message not handed on — a report handed on
// already (dropped by its id or its stream sequence), or another node's
// (the whole stream is read because Subjects overlap) — and waits for the
// server's confirmation on a goroutine of its own (asideAcks), not
// holding execMu or the delivery's goroutine: no report handed on after
// it waits for it. One of another node's waited for a round trip in
// place, each before the next report (TestS44natsForeignAckAside). A
// late delivery of a report handled already — one from before a reset of
// the durable consumer (the Consumer's own, see resetLost, or an
// operator's to a sequence), that the server has not delivered again
// since — is one it no longer waits for: it neither takes nor answers its
// ack (nats-server consumer.go processAckMsg: an ack at or past the next
// sequence to deliver is ignored), and the ack, sent again until AckWait
// (30 s by default), held execMu and every later report that long
// (TestS43natsLateDuplicateAckAfterReset); confirm now gives such an ack
// up after one try with no answer, once ackAwaited finds the server no
// longer waits for it. The server then delivers the report again, dropped as a duplicate and acknowledged in turn; and an
// ack into a dying link is still sent again until confirmed, so that the
// next incarnation does not get the report again. At most maxAsideAcks
// confirmations wait aside; past them m's is waited for in place
// (asideFull counts them): the goroutines are bounded, whatever
// MaxAckPending (TestS44natsDuplicateStormBounded). Close waits for these
// confirmations as for a report's (within its ctx). Under execMu.
func (c *Consumer) ackAside(m jetstream.Msg) {
	c.handled(m)
	select {
	case c.asideSlots <- struct{}{}:
		c.asideAcks.Go(func() {
			defer func() { <-c.asideSlots }()
			c.confirm(m, m.DoubleAck)
		})
	default:
		c.asideFull.Add(1)
		c.confirm(m, m.DoubleAck)
	}
}

// termBody is what a Term sends (nats.go has no Term that waits for the
// server's confirmation; the server confirms one as it does an ack).
var termBody = []byte("+TERM")

// terminate records the undecodable message m terminated, announced, and
// waits for the server to confirm the Term (see confirm). Under execMu.
func (c *Consumer) terminate(m jetstream.Msg) {
	c.handled(m)
	c.confirm(m, func(ctx context.Context) error {
		_, err := c.nc.RequestWithContext(ctx, m.Reply(), termBody)
		return err
	})
}

// confirm sends an ack or a Term of m with send and waits for the
// server's confirmation. One not confirmed within ackRetry is sent again,
// until AckWait has passed: one lost (written into a dying link, which
// nats.go does not send again) held the next report — the server delivers
// MaxAckPending at a time — for a whole AckWait (30 s by default). An ack
// is idempotent: the server confirms one of a report already acknowledged
// too. So is one whose wait nats.go ended with ErrDisconnected
// (Conn.ForceReconnect drops the link and every reply awaited): it went
// with the old socket. One the server no longer waits for (ackAwaited) is
// not sent again: m comes again.
func (c *Consumer) confirm(m jetstream.Msg, send func(context.Context) error) {
	ctx, cancel := context.WithTimeout(c.life, c.opts.AckWait)
	defer cancel()
	for {
		try, stop := context.WithTimeout(ctx, ackRetry)
		err := send(try)
		stop()
		if err == nil {
			return
		}
		if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrDisconnected) {
			c.ackErrors.add(c.log, 1, "natsbridge: acks not confirmed by the server; the reports may come again (dropped as duplicates)", "error", err)
			return
		}
		if errors.Is(err, context.DeadlineExceeded) && !c.ackAwaited(ctx, m) {
			if meta, err := m.Metadata(); err == nil {
				for seq := meta.Sequence.Stream; ; {
					old := c.execUnawaited.Load()
					if seq <= old || c.execUnawaited.CompareAndSwap(old, seq) {
						break
					}
				}
			}
			c.ackUnawaited.add(c.log, 1, "natsbridge: the durable consumer was reset under a report in hand and ignores its ack; the report comes again (dropped by its id)", "subject", m.Subject())
			return
		}
	}
}

// ackAwaited reports whether the server may still take the ack (or Term)
// of m, a delivery of the durable consumer not confirmed within ackRetry:
// false when the consumer was reset under it (by the Consumer after a
// reconnection, resetLost, to a report still in nats.go's hands; or by an
// operator), its next report to deliver at or before m (its info's
// Delivered.Stream below m's stream sequence). The server ignores such an
// ack without an answer (nats-server consumer.go processAckMsg: an ack at
// or past the next sequence to deliver) until it has delivered m again,
// which needs a pull: none waited when the Consume's pulls were refused
// (an operator's lower MaxRequestBatch) or its last one had delivered m
// again, nats.go pulling again only once m is done — and the ack, sent
// again until AckWait, held execMu, the next report and the resumer that
// long (TestS47natsAckIgnoredAfterReset; TestS39natsOperatorLimitsChangedLive
// timed out, about 1 run in 1,000 under load). m comes again, dropped by its
// id, or terminated again. Nor when the server waits for no ack at all
// (NumAckPending 0): m is not pending, and an ack the server does not
// answer then is one it ignores — seen after two resets in a row, its info
// reading Delivered.Stream at m's and nothing pending while m's ack went
// unanswered, sent again until AckWait (TestS47natsAckIgnoredAfterReset
// timed out on report 1001 in 4 runs of 58 with a second copy beside it).
// Unknown (no metadata, no answer within ackRetry): true, sent again.
func (c *Consumer) ackAwaited(ctx context.Context, m jetstream.Msg) bool {
	meta, err := m.Metadata()
	if err != nil {
		return true
	}
	look, stop := context.WithTimeout(ctx, ackRetry)
	defer stop()
	cons, err := c.execResume.js.Consumer(look, c.opts.Stream.Name, c.opts.Durable)
	if err != nil {
		return true
	}
	info := cons.CachedInfo()
	return info == nil || info.NumAckPending > 0 && info.Delivered.Stream >= meta.Sequence.Stream
}

// onState publishes a state of the NATS connection to the dispatcher as a
// critical message: in order with the core messages, from the reserve when
// the pool is exhausted, or held until an event is free (nothing overtakes
// it), never dropped.
func (c *Consumer) onState(e StateEvent) {
	logState(c.log, e)
	ctl := &schema.Control{Kind: schema.ControlConnState, State: e.State, Code: int64(e.Reconnects)}
	switch {
	case e.URL != "":
		ctl.Reason = e.URL
	case e.Err != nil:
		ctl.Reason = e.Err.Error()
	}
	ev := &schema.CanonicalEvent{Venue: c.opts.StateVenue, Type: schema.EventConnState, IngestTS: e.At.UnixNano(), Control: ctl}
	if e.State == schema.ConnConnected && e.Reconnects > 0 {
		signal(c.execResume.relink) // a report delivered into the lost link (read only with a Durable)
	}
	// Deferred: host code in the dispatcher's Publish may end the
	// goroutine with runtime.Goexit (the watcher goes on from a new one),
	// and the host's OnState must still see the state.
	defer onState(c.log, c.opts.OnState, e)
	c.publishState(e, ev)
}

// publishState notes the link lost or up and hands on ev, the event of the
// connection's state e. The note comes first and the unlock is deferred:
// host code in the dispatcher's Publish may end the goroutine with
// runtime.Goexit (dispatch delivers ev), after which the watcher goes on
// from a new goroutine and the Consumer's loop needs the lock — and a
// lost link noted after the Publish was never told (no gap marker).
func (c *Consumer) publishState(e StateEvent, ev *schema.CanonicalEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return
	}
	if e.State == schema.ConnConnected {
		c.linkUp = true
	} else if c.linkUp && (e.State == schema.ConnDisconnected || e.State == schema.ConnClosed) {
		c.linkUp = false
		why := "natsbridge: NATS connection lost: every stream of the venue is stale until its next update"
		if e.Err != nil {
			why += " (" + e.Err.Error() + ")"
		}
		// Told once what came before the loss is handed on (run), after
		// ev (the loop waits for the lock): a quote of before it handed
		// on after the marker would pass for the stream's next update.
		// nats.go has handed on all it received by now (its reader ended
		// before the state).
		if !c.stalePending.Load() {
			c.staleWhy, c.staleAt = why, e.At.UnixNano()
		}
		c.staleUpTo = c.handedOn()
		c.stalePending.Store(true)
		select {
		case c.q.wake <- struct{}{}:
		default:
		}
	}
	c.deliverCritical(ev)
	c.flushHeld()
}

// deliverCritical holds ev, a critical event of the Consumer's own (a
// state, a gap marker), to be handed on in order with the core messages
// by the caller's flushHeld: from the reserve when the pool is exhausted,
// or once an event is free. Held first, so that host code ending the
// goroutine with runtime.Goexit inside the Publish of one of several
// (markStale's, one per venue) leaves the others held, delivered by the
// loop (see run), not forgotten.
func (c *Consumer) deliverCritical(ev *schema.CanonicalEvent) {
	c.hold(&c.stateSubj, wire.Append(nil, ev, 0))
}

// hold keeps data, a critical message it takes, to be delivered after
// those held before it (deliverHeld), and wakes the loop, which retries
// what is held: a goroutine that holds may end before it delivers. Every
// caller flushes next (flushHeld), which checks the bound on what is left:
// a message held only on its way through is no sign of an exhausted pool.
func (c *Consumer) hold(st *subjectState, data []byte) {
	c.held = append(c.held, heldMsg{st: *st, data: data})
	c.heldBytes += len(data)
	c.holding.Store(true)
	select {
	case c.q.wake <- struct{}{}:
	default:
	}
}

// handedOn is how many messages nats.go has put in the channel to the pump
// (its own drops not counted).
func (c *Consumer) handedOn() uint64 {
	var n uint64
	for _, s := range c.subs {
		if d, err := s.Delivered(); err == nil && d > 0 {
			n += uint64(d)
		}
	}
	return n
}

// linkLost tells the venues of a lost connection (markStale) once the
// pump has queued, moved by the time the queue was found empty, all that
// nats.go had handed on when the connection dropped.
func (c *Consumer) linkLost(moved uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() || !c.stalePending.Load() || moved < c.staleUpTo {
		return
	}
	c.stalePending.Store(false)
	c.markStale(c.staleWhy, c.staleAt)
	c.flushHeld()
}

// maxVenues bounds the venues the Consumer tells of a lost connection:
// venues are few; of a peer that names thousands the Consumer keeps those
// seen most recently — kept in the order first seen, 256 stray venues
// named once left every venue after them, the host's own, untold for the
// Consumer's life.
const maxVenues = 256

// noteVenue notes that market data of venue v was brought (see markStale).
// A venue forgotten to keep within maxVenues is counted and logged.
func (c *Consumer) noteVenue(v schema.Venue) {
	c.lastVenue = v
	if v == c.opts.StateVenue {
		return
	}
	before := c.venues.evicted
	if c.venues.get(v); c.venues.evicted != before {
		c.venuesForgotten.add(c.log, 1, "natsbridge: more venues than the Consumer tells of a lost link; the least recently seen forgotten, not told", "bound", maxVenues)
	}
}

// markStale tells the subscribers of every venue the Consumer brought that
// its streams may be stale, for the reason why (the connection dropped,
// nats.go dropped messages): each stream of the venue is stale until its
// next update, and what was published meanwhile may be lost (ordered
// streams count it when they resume). One gap marker per venue, naming no type and
// no symbol: dispatch delivers it to every market data subscriber of the
// venue, whatever its symbols and types, and drops the quotes still queued
// before it (a quote from before the loss delivered after it would pass for
// the stream's state), rather than a marker per stream, a burst of
// thousands at the worst moment.
func (c *Consumer) markStale(why string, at int64) {
	for v := range c.venues.m {
		g := &schema.CanonicalEvent{Venue: v, Type: schema.EventGap, IngestTS: at}
		*g.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventUnknown, GapSource: schema.GapRelay, Reason: why}
		c.deliverCritical(g)
		c.gaps.Add(1)
	}
}

// natsDropped tells the venues, as markStale, when nats.go dropped
// messages for the subscriptions since it last looked (a slow consumer:
// its channel to the queue was full). Which ones is not known: a quote
// lost there leaves its stream stale until the next update, and only the
// venue can be named. Ordered streams also count their losses when they
// resume.
func (c *Consumer) natsDropped() {
	var n uint64
	for _, s := range c.subs {
		if d, err := s.Dropped(); err == nil {
			n += uint64(d)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n <= c.natsDrops || c.closed.Load() {
		return
	}
	c.natsDrops = n
	c.markStale("natsbridge: NATS dropped messages of this consumer (a slow consumer): every stream of the venue may be stale until its next update", time.Now().UnixNano())
	c.flushHeld()
}

// slowDropped sums what NATS dropped for the subscriptions.
func (c *Consumer) slowDropped() uint64 {
	if c.closed.Load() {
		return c.slowAtEnd.Load()
	}
	slow := c.q.droppedCount()
	for _, s := range c.subs {
		if n, err := s.Dropped(); err == nil {
			slow += uint64(n)
		}
	}
	return slow
}

// Stats returns the consumer's counters.
func (c *Consumer) Stats() ConsumerStats {
	return ConsumerStats{
		Received:        c.received.Load(),
		Duplicates:      c.dupes.Load(),
		Delivered:       c.delivered.Load(),
		Gaps:            c.gaps.Load(),
		Lost:            c.lost.load(),
		SlowDropped:     c.slowDropped(),
		PoolDropped:     c.poolDropped.load(),
		Malformed:       c.malformed.Load(),
		ExecDelivered:   c.execDelivered.Load(),
		ExecDuplicate:   c.execDup.Load(),
		AckErrors:       c.ackErrors.load(),
		ExecReturned:    c.execReturned.Load(),
		Evicted:         c.latestEvicted.load() + c.seqEvicted.load(),
		VenuesForgotten: c.venuesForgotten.load(),
		ExecResumed:     c.execResumed.Load(),
		ExecLost:        c.execLost.load(),
	}
}

// Close unsubscribes and stops the durable consumer, which keeps its
// position on the server: a report delivered to this consumer but not yet
// handed on is handed back (Nak, confirmed by a flush when the connection
// is up), so that a new Consumer with the same Durable resumes at once
// after the last acknowledged report instead of waiting for AckWait. Close
// waits for the deliveries in progress and the consumer's goroutines to
// end; a delivery waiting on the server (an ack it does not confirm) or on
// the pool stops waiting when ctx ends (the report may then come again to
// the next incarnation). Close the Consumer before its dispatcher. It is safe to call twice.
func (c *Consumer) Close(ctx context.Context) error {
	c.closeOnce.Do(func() { c.closeErr = c.stop(ctx) })
	return c.closeErr
}

func (c *Consumer) stop(ctx context.Context) error {
	// A delivery waiting on the server (an ack it does not confirm) or on
	// the pool ends when ctx does, so that Close keeps to it.
	defer c.endLife()
	defer context.AfterFunc(ctx, c.endLife)()
	c.slowAtEnd.Store(c.slowDropped())
	c.closed.Store(true)
	var errs []error
	for _, s := range c.subs {
		if err := s.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrBadSubscription) {
			errs = append(errs, err)
		}
	}
	close(c.quit)
	c.execResume.stop() // before cc is touched: the resumer replaces it
	<-c.pumped
	<-c.loop
	c.mu.Lock()
	if c.reserve != nil {
		c.events.Put(c.reserve)
		c.reserve = nil
	}
	c.mu.Unlock()
	if c.cc != nil {
		// Drain, not Stop: the reports already buffered in the client reach
		// onExec, which hands them back, instead of waiting on the server
		// for AckWait. Without a connection nothing can be handed back, and
		// a drain would wait for one.
		if c.nc.IsConnected() {
			c.cc.Drain()
		} else {
			c.cc.Stop()
		}
		select {
		case <-c.cc.Closed():
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("natsbridge: stopping durable consumer: %w", ctx.Err()))
		}
		// Wait for a delivery in progress: it sees closed and hands on
		// nothing more.
		c.execMu.Lock()
		c.execMu.Unlock() //nolint:staticcheck // an empty critical section is the wait
		// And for the acks confirmed aside: closed, no delivery adds one.
		c.asideAcks.Wait()
		if c.nc.IsConnected() {
			if err := flush(ctx, c.nc); err != nil {
				errs = append(errs, fmt.Errorf("natsbridge: flush: %w", err))
			}
		}
		c.log.Info("natsbridge: durable consumer stopped", "handed_back", c.execReturned.Load())
	}
	c.w.stop()
	return errors.Join(errs...)
}
