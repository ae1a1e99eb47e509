package natsbridge

// Review s23: what the consumer keeps per subject and per stream is bounded
// whatever the symbols a foreign producer (or a bug in one) publishes.

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// sizes returns how many subjects, sequence states and latest updates the
// consumer keeps.
func (c *Consumer) sizes() (subjects, seqs, latest int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subjects.len(), c.seqs.len(), len(c.latest)
}

// A producer that publishes under ever new symbols grew the consumer's
// per-subject and per-stream maps without bound (one entry per subject and
// per stream for the life of the consumer). They are bounded by
// MaxStreams: the least recently seen stream is forgotten, counted, and a
// stream that is busy is never the one forgotten, so its losses are still
// announced exactly. A forgotten stream that comes back midway is announced
// by a gap marker of unknown count (the consumer cannot tell what it missed),
// and so, once streams were forgotten, is any stream first seen midway.
func TestS23StreamStateBounded(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	const bound = 8
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{MaxStreams: bound})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}

	const cold = 200
	hot := uint64(0)
	for i := range cold {
		raw.send(tradeOf("COLD"+strconv.Itoa(i), 1), 1) // from its start: no gap
		hot++
		raw.send(tradeOf("HOT", hot), hot)
	}
	eventually(t, func() bool { return cons.Stats().Delivered == 2*cold }, "all handed on")
	subjects, seqs, _ := cons.sizes()
	assert.LessOrEqual(t, subjects, bound, "subjects kept")
	assert.LessOrEqual(t, seqs, bound, "sequence states kept")
	st := cons.Stats()
	assert.Equal(t, uint64(cold-bound+1), st.Evicted, "the cold streams forgotten, counted: %+v", st)
	assert.Zero(t, st.Gaps)
	for range 2 * cold {
		require.NotEqual(t, schema.EventGap, next(t, got, anyEvent).Type)
	}

	// The busy stream was kept: a loss in it is announced exactly.
	raw.send(tradeOf("HOT", hot+3), hot+3)
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type)
	assert.Equal(t, "HOT", g.Symbol)
	assert.Equal(t, uint64(2), g.Control.GapCount)
	assert.Equal(t, hot+3, next(t, got, anyEvent).SeqProvider)

	// A forgotten stream back midway: what it missed is unknown, and said.
	raw.send(tradeOf("COLD0", 9), 9)
	g = next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type, "a forgotten stream's loss went unannounced")
	assert.Equal(t, "COLD0", g.Symbol)
	assert.Equal(t, schema.EventTrade, g.Control.GapType)
	assert.Zero(t, g.Control.GapCount, "unknown")
	assert.Equal(t, uint64(9), next(t, got, anyEvent).SeqProvider)
	// A stream from its start is new, whatever was forgotten.
	raw.send(tradeOf("NEW", 1), 1)
	assert.Equal(t, schema.EventTrade, next(t, got, anyEvent).Type)
	// One first seen midway may be one forgotten: announced.
	raw.send(tradeOf("MIDWAY", 7), 7)
	g = next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type)
	assert.Equal(t, "MIDWAY", g.Symbol)
	assert.Zero(t, g.Control.GapCount)
	assert.Equal(t, uint64(7), next(t, got, anyEvent).SeqProvider)

	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// Under an exhausted pool, the latest update of each coalescable stream
// was kept (a copy of its message) for every stream ever seen; a producer
// with many symbols made the consumer hold one message per symbol. At most
// MaxStreams wait; past them an update is dropped, counted.
func TestS23LatestBounded(t *testing.T) {
	srv := startServer(t)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 256)
	_, err := far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	const bound = 4
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, &ConsumerOptions{MaxStreams: bound})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	far.hold(0)
	const n = 50
	for i := range n {
		raw.send(&schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "S" + strconv.Itoa(i), Type: schema.EventBBO}, 0)
	}
	eventually(t, func() bool { return cons.Stats().PoolDropped == n }, "all shelved or dropped")
	_, _, latest := cons.sizes()
	assert.LessOrEqual(t, latest, bound, "latest updates kept")
	assert.Equal(t, uint64(n-bound), cons.Stats().Evicted)
	far.release()
	for range bound {
		assert.Equal(t, schema.EventBBO, next(t, got, anyEvent).Type)
	}
	eventually(t, func() bool { _, _, l := cons.sizes(); return l == 0 }, "delivered updates not kept")
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}

// A forgotten stream whose first message back is lost to an exhausted
// pool: the marker before its next event says the loss is of unknown
// count (what it missed while forgotten is unknown), not the one message
// the pool cost.
func TestS23ForgottenStreamBackUnderPoolPressure(t *testing.T) {
	srv := startServer(t)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 64)
	_, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, &ConsumerOptions{MaxStreams: 2})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	for _, sym := range []string{"A", "B", "C"} { // C forgets A
		raw.send(tradeOf(sym, 1), 1)
		require.Equal(t, sym, next(t, got, anyEvent).Symbol)
	}
	require.Equal(t, uint64(1), cons.Stats().Evicted)
	eventually(t, func() bool { return far.events.Stats().InUse <= 1 }, "the pool settled")
	far.hold(0)
	raw.send(tradeOf("A", 5), 5) // back, and lost to the pool
	eventually(t, func() bool { return cons.Stats().PoolDropped == 1 }, "dropped for want of an event")
	far.release()
	raw.send(tradeOf("A", 6), 6)
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type)
	assert.Equal(t, "A", g.Symbol)
	assert.Zero(t, g.Control.GapCount, "unknown: more than the one the pool cost may be lost")
	assert.Equal(t, uint64(6), next(t, got, anyEvent).SeqProvider)
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}

// len returns how many messages wait in the queue.
func (q *msgQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf) - q.head
}

// heldLen returns how many critical messages wait for an event.
func (c *Consumer) heldLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.held)
}

// Critical messages (control events, connection states, gap markers) that
// find the host's pool exhausted are held, never dropped — and were held
// without bound: a producer's stream of control events while the host's
// pool stays exhausted grew the consumer's memory for as long as it
// lasted. Past maxHeld the consumer stops taking messages from its queue,
// whose bounds then apply (PendingMsgs and PendingBytes, past which it
// drops and counts SlowDropped, as for any slow consumer); what it held
// and queued is delivered in order once events are free.
func TestS23HeldBounded(t *testing.T) {
	srv := startServer(t)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 4*maxHeld)
	_, err := far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventControl}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, nil)
	require.NoError(t, err)
	nc := connect(t, srv.ClientURL(), nil)
	eventually(t, func() bool { return far.events.Stats().InUse <= 1 }, "the pool settled")
	subj := Subject(DefaultPrefix, schema.VenueBinance, "", schema.EventControl)
	control := func(code int64) []byte {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventControl}
		ev.UseControl().Code = code
		return wire.Append(nil, ev, 0)
	}
	// The consumer's reserve goes with the first control event and comes
	// back to the pool: taken too.
	far.hold(0)
	require.NoError(t, nc.Publish(subj, control(1)))
	require.NoError(t, nc.Flush())
	eventually(t, func() bool { return cons.Stats().Delivered == 1 }, "the first delivered from the reserve")
	require.Equal(t, int64(1), next(t, got, anyEvent).Control.Code)
	eventually(t, func() bool { return far.events.Stats().InUse < 16 }, "the reserve back in the pool")
	far.hold(0)
	const n = 3 * maxHeld
	for i := range n {
		require.NoError(t, nc.Publish(subj, control(int64(i+2))))
	}
	require.NoError(t, nc.Flush())
	eventually(t, func() bool {
		return cons.Stats().Received+uint64(cons.q.len()) == n+1
	}, "every message received or queued")
	assert.LessOrEqual(t, cons.heldLen(), maxHeld, "critical messages held past the bound")
	assert.Zero(t, cons.Stats().SlowDropped)
	far.release()
	last := int64(1)
	for range n {
		ev := next(t, got, anyEvent)
		require.Greater(t, ev.Control.Code, last, "in order")
		last = ev.Control.Code
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}

// An operator's stream that does not acknowledge what it stores (no_ack)
// or that is sealed (it stores nothing more) held every report at the head
// of the Publisher's queue for ever — a publish that is never acknowledged
// is retried — while NewPublisher and NewConsumer accepted it: they refuse
// it, saying why.
func TestS23OperatorStreamNoAckOrSealed(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv.ClientURL(), nil)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ingest := newNode(t)
	for i, edit := range []func(*jetstream.StreamConfig){
		func(c *jetstream.StreamConfig) { c.NoAck = true },
		func(c *jetstream.StreamConfig) { c.Sealed = true },
	} {
		prefix := "s23ops" + strconv.Itoa(i)
		cfg := jetstream.StreamConfig{Name: "S23OPS" + strconv.Itoa(i), Subjects: []string{prefix + ".*.*.*"}}
		_, err = js.CreateStream(waitCtx(t), cfg)
		require.NoError(t, err)
		edit(&cfg)
		_, err = js.UpdateStream(waitCtx(t), cfg)
		require.NoError(t, err)
		stream := StreamOptions{Name: cfg.Name, NoCreate: true}
		_, err = NewPublisher(waitCtx(t), nc, ingest.d, &PublisherOptions{Prefix: prefix, Stream: stream})
		require.Error(t, err, "%+v", cfg)
		t.Log(err)
		_, err = NewConsumer(waitCtx(t), nc, ingest.d, ingest.pools.Events, &ConsumerOptions{Prefix: prefix, Durable: "ops", Stream: stream})
		require.Error(t, err, "%+v", cfg)
	}
	ingest.close(t)
}

// seenBytes returns the bytes of the execution report ids the consumer
// remembers.
func (c *Consumer) seenBytes() int {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	n := 0
	for id := range c.seen.set {
		n += len(id)
	}
	return n
}

// The consumer remembers the message ids of the last Dedup execution
// reports, as their producer wrote them: a producer whose ids are long
// (JetStream takes headers up to 64 KiB) made the consumer keep Dedup of
// them — 256 MiB at the defaults. An id longer than maxIDLen is kept as
// its SHA-256: as exact, and bounded.
func TestS23LongMessageIDsBounded(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	reports := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{Durable: "long"})
	require.NoError(t, err)
	js, err := jetstream.New(connect(t, srv.ClientURL(), nil))
	require.NoError(t, err)
	const n = 4
	for i := range n {
		ev := new(schema.CanonicalEvent)
		execReport(i)(ev)
		id := strconv.Itoa(i) + strings.Repeat("x", 60<<10)
		_, err := js.PublishMsg(waitCtx(t), &nats.Msg{Subject: Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), Data: wire.Append(nil, ev, 0)},
			jetstream.WithMsgID(id))
		require.NoError(t, err)
	}
	for range n {
		next(t, reports, anyEvent)
	}
	assert.LessOrEqual(t, cons.seenBytes(), n*maxIDLen, "ids kept whole")
	// Still exact: the same long id again is a duplicate (redelivered, or
	// published again past the server's duplicate window).
	c := cons
	c.execMu.Lock()
	dup := c.seen.has(c.idOf(strconv.Itoa(0) + strings.Repeat("x", 60<<10)))
	c.execMu.Unlock()
	assert.True(t, dup)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
