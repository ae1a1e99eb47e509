package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
)

// ConsumerOptions tune a Consumer. A nil *ConsumerOptions gives the
// defaults; NewConsumer copies the struct.
type ConsumerOptions struct {
	// Prefix is the subjects' first token. Defaults to DefaultPrefix.
	Prefix string
	// Subjects are the subjects subscribed, wildcards allowed:
	// "meltica.binance.>", "meltica.*.BTC-USDT.*", "meltica.*.*.trade".
	// They select execution reports from the stream too. Defaults to
	// Prefix + ".>", everything.
	Subjects []string
	// Durable names the JetStream durable consumer that delivers execution
	// reports and order acks. It is what lets a restarted consumer resume
	// where it stopped; two Consumers with the same name share (split)
	// the reports, so give each node its own. Empty: this Consumer receives
	// no execution reports. Defaults to empty.
	Durable string
	// Stream describes the JetStream stream of execution reports; give it
	// the values the Publisher has.
	Stream StreamOptions
	// PendingMsgs and PendingBytes bound what waits in NATS's client
	// buffer for this consumer. Beyond them NATS drops messages (a slow
	// consumer); the losses of ordered streams become gap markers. Default
	// to DefaultPendingMsgs and DefaultPendingBytes.
	PendingMsgs, PendingBytes int
	// AckWait is how long the server waits for the ack of an execution
	// report before delivering it again. Defaults to DefaultAckWait.
	AckWait time.Duration
	// MaxAckPending is how many execution reports may be delivered and not
	// yet acknowledged. With 1 (the default) a redelivery can never
	// overtake a later report: the reports of an order stay in order.
	MaxAckPending int
	// Dedup is how many execution report ids the consumer remembers, to
	// drop a redelivery it has already handed on. Defaults to DefaultDedup.
	Dedup int
	// StateVenue is the Venue of the EventConnState events that report the
	// NATS connection's state to the dispatcher (a subscription whose
	// Filter names venues must name it too to see them). Defaults to
	// DefaultStateVenue ("nats").
	StateVenue schema.Venue
	// PoolWait bounds the wait for an event from the pool for execution
	// reports, gap markers and states; market data never waits (it is
	// dropped and becomes a gap). Defaults to DefaultPoolWait.
	PoolWait time.Duration
	// OnState sees the NATS connection's state changes after they were
	// published to the dispatcher, from a goroutine of the consumer's.
	// Defaults to nil.
	OnState func(StateEvent)
}

// ConsumerStats are a Consumer's counters.
type ConsumerStats struct {
	Received      uint64 // core NATS messages received
	Delivered     uint64 // of those, published to the dispatcher
	Gaps          uint64 // gap markers published
	Lost          uint64 // ordered-stream messages the gap markers account for
	SlowDropped   uint64 // messages NATS dropped because this consumer fell behind
	PoolDropped   uint64 // market data dropped because the event pool was exhausted
	Malformed     uint64 // messages that did not decode (dropped; execution reports are terminated)
	ExecDelivered uint64 // execution reports and order acks published to the dispatcher
	ExecDuplicate uint64 // redeliveries dropped because the id was already handed on
	AckErrors     uint64 // acks the server did not confirm (the report may come again, then dropped as a duplicate)
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
// A Consumer is safe for concurrent use. nats.go delivers on its own
// goroutines; the consumer adds one for state changes; Close stops them.
type Consumer struct {
	nc     *nats.Conn
	d      *dispatch.Dispatcher
	events *pool.Pool[*schema.CanonicalEvent]
	opts   ConsumerOptions
	subs   []*nats.Subscription
	cc     jetstream.ConsumeContext
	w      *watcher
	closed atomic.Bool

	mu      sync.Mutex // core delivery
	dec     wire.Decoder
	streams map[string]*uint64 // last bridge sequence per subject

	execMu  sync.Mutex // execution report delivery
	execDec wire.Decoder
	seen    dedup

	closeOnce sync.Once
	closeErr  error

	received, delivered, gaps, lost, poolDropped, malformed atomic.Uint64
	execDelivered, execDup, ackErrors                       atomic.Uint64
}

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
	if o.StateVenue == "" {
		o.StateVenue = DefaultStateVenue
	}
	c := &Consumer{nc: nc, d: d, events: events, opts: o, streams: make(map[string]*uint64), seen: newDedup(o.Dedup)}
	c.w = watch(nc, c.onState)
	fail := func(err error) (*Consumer, error) {
		c.stop(context.Background())
		return nil, err
	}
	for _, subj := range o.Subjects {
		s, err := nc.Subscribe(subj, c.onMsg)
		if err != nil {
			return fail(fmt.Errorf("natsbridge: subscribe %s: %w", subj, err))
		}
		c.subs = append(c.subs, s)
		if err := s.SetPendingLimits(o.PendingMsgs, o.PendingBytes); err != nil {
			return fail(fmt.Errorf("natsbridge: %w", err))
		}
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
	}
	return c, nil
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
	if err := ensureStream(ctx, js, c.opts.Prefix, c.opts.Stream); err != nil {
		return err
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, c.opts.Stream.Name, jetstream.ConsumerConfig{
		Durable:        c.opts.Durable,
		Description:    "Meltica execution reports for one consumer node",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.opts.AckWait,
		MaxAckPending:  c.opts.MaxAckPending,
		FilterSubjects: c.opts.Subjects,
	})
	if err != nil {
		return fmt.Errorf("natsbridge: durable consumer %s: %w", c.opts.Durable, err)
	}
	c.cc, err = cons.Consume(c.onExec, jetstream.ConsumeErrHandler(func(jetstream.ConsumeContext, error) {}))
	if err != nil {
		return fmt.Errorf("natsbridge: consume %s: %w", c.opts.Durable, err)
	}
	return nil
}

// onMsg runs on nats.go's delivery goroutine of one subscription.
func (c *Consumer) onMsg(m *nats.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return
	}
	c.received.Add(1)
	typ, ok := wire.Type(m.Data)
	if ok && durable(typ) {
		return // the durable consumer delivers these, once
	}
	ev, err := c.events.TryGet()
	if err != nil {
		if typ.Critical() {
			ev, err = c.getWait()
		}
		if err != nil {
			// Not decoded, so the stream's sequence is not advanced: the
			// next message of an ordered stream shows the loss.
			c.poolDropped.Add(1)
			return
		}
	}
	seq, err := c.dec.Decode(m.Data, ev)
	if err != nil {
		c.events.Put(ev)
		c.malformed.Add(1)
		return
	}
	if seq != 0 && !ev.Type.Coalescable() && !ev.Type.Critical() {
		last := c.streams[m.Subject]
		if last == nil {
			last = new(uint64)
			c.streams[m.Subject] = last
		}
		// A sequence that does not move forward is a restarted publisher:
		// start over from it.
		if *last != 0 && seq > *last+1 {
			c.gap(ev, seq-*last-1)
		}
		*last = seq
	}
	if c.d.Publish(context.Background(), ev) == nil {
		c.delivered.Add(1)
	}
}

// gap publishes a gap marker for n events lost before ev, ahead of it.
func (c *Consumer) gap(ev *schema.CanonicalEvent, n uint64) {
	c.lost.Add(n)
	g, err := c.getWait()
	if err != nil {
		return
	}
	g.Venue, g.Symbol, g.Type = ev.Venue, ev.Symbol, schema.EventGap
	g.IngestTS = time.Now().UnixNano()
	g.Control = schema.Control{Kind: schema.ControlGap, GapType: ev.Type, GapCount: n, GapSource: schema.GapRelay,
		Reason: "natsbridge: " + strconv.FormatUint(n, 10) + " lost between ingest and consumer"}
	if c.d.Publish(context.Background(), g) == nil {
		c.gaps.Add(1)
	}
}

func (c *Consumer) getWait() (*schema.CanonicalEvent, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.PoolWait)
	defer cancel()
	return c.events.Get(ctx)
}

// onExec runs on the durable consumer's delivery goroutine. A report is
// acknowledged once the dispatcher has queued it for every subscriber; it is
// not acknowledged (and so comes again) when it could not be handed on.
func (c *Consumer) onExec(m jetstream.Msg) {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	if c.closed.Load() {
		return // not acked: the next incarnation gets it
	}
	id := m.Headers().Get(jetstream.MsgIDHeader)
	if id != "" && c.seen.has(id) {
		c.execDup.Add(1)
		c.ack(m)
		return
	}
	ev, err := c.getWait()
	if err != nil {
		_ = m.Nak()
		return
	}
	if _, err := c.execDec.Decode(m.Data(), ev); err != nil {
		c.events.Put(ev)
		c.malformed.Add(1)
		_ = m.Term()
		return
	}
	if err := c.d.Publish(context.Background(), ev); err != nil {
		_ = m.Nak()
		return
	}
	c.execDelivered.Add(1)
	if id != "" {
		c.seen.add(id)
	}
	c.ack(m)
}

// ack waits for the server to confirm the ack, so that once Close has
// returned no report handed on is delivered again to the next incarnation.
func (c *Consumer) ack(m jetstream.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.AckWait)
	defer cancel()
	if err := m.DoubleAck(ctx); err != nil {
		c.ackErrors.Add(1)
	}
}

// onState publishes a state of the NATS connection to the dispatcher.
func (c *Consumer) onState(e StateEvent) {
	if ev, err := c.getWait(); err == nil {
		ev.Venue, ev.Type = c.opts.StateVenue, schema.EventConnState
		ev.IngestTS = e.At.UnixNano()
		ev.Control.Kind, ev.Control.State = schema.ControlConnState, e.State
		ev.Control.Code = int64(e.Reconnects)
		switch {
		case e.URL != "":
			ev.Control.Reason = e.URL
		case e.Err != nil:
			ev.Control.Reason = e.Err.Error()
		}
		_ = c.d.Publish(context.Background(), ev)
	}
	if c.opts.OnState != nil {
		c.opts.OnState(e)
	}
}

// Stats returns the consumer's counters.
func (c *Consumer) Stats() ConsumerStats {
	var slow uint64
	for _, s := range c.subs {
		if n, err := s.Dropped(); err == nil {
			slow += uint64(n)
		}
	}
	return ConsumerStats{
		Received:      c.received.Load(),
		Delivered:     c.delivered.Load(),
		Gaps:          c.gaps.Load(),
		Lost:          c.lost.Load(),
		SlowDropped:   slow,
		PoolDropped:   c.poolDropped.Load(),
		Malformed:     c.malformed.Load(),
		ExecDelivered: c.execDelivered.Load(),
		ExecDuplicate: c.execDup.Load(),
		AckErrors:     c.ackErrors.Load(),
	}
}

// Close unsubscribes and stops the durable consumer (which keeps its
// position on the server: a new Consumer with the same Durable resumes after
// the last acknowledged report), and waits for the deliveries in progress
// and the state goroutine to end. Close the Consumer before its dispatcher.
// It is safe to call twice.
func (c *Consumer) Close(ctx context.Context) error {
	c.closeOnce.Do(func() { c.closeErr = c.stop(ctx) })
	return c.closeErr
}

func (c *Consumer) stop(ctx context.Context) error {
	c.closed.Store(true)
	var errs []error
	for _, s := range c.subs {
		if err := s.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrBadSubscription) {
			errs = append(errs, err)
		}
	}
	if c.cc != nil {
		c.cc.Stop()
		select {
		case <-c.cc.Closed():
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("natsbridge: stopping durable consumer: %w", ctx.Err()))
		}
	}
	// Wait for a delivery in progress: it sees closed and hands on nothing more.
	c.mu.Lock()
	c.mu.Unlock() //nolint:staticcheck // an empty critical section is the wait
	c.execMu.Lock()
	c.execMu.Unlock() //nolint:staticcheck // likewise
	c.w.stop()
	return errors.Join(errs...)
}
