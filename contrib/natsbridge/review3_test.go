package natsbridge

// Adversarial review, third round (helper nat): the message id of
// execution reports and order acks, operator streams, max_payload, foreign
// layouts in the stream of reports.

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// orderAck fills the answer to request req about order-1, as session's
// venueOrders.publish does for OKX and Bybit: order ids, the request id,
// and the venue's time, which normalize.OrderAnswer.TS leaves 0 "when not
// sent". The answers to a place and to a cancel of one order differ only
// in their request id.
func orderAck(req uint64) func(ev *schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueOKX, "BTC-USDT", schema.EventOrderAck
		ev.UseControl().RequestID = req
		ev.UseExec().ClientOrderID = schema.MustID("order1")
		ev.UseExec().VenueOrderID = schema.MustID("778899")
	}
}

// Two order acks that differ only in their request id (the place and the
// cancel of one order, answered without a venue time) are two messages:
// the stream must store both, and the host's session gets the answer to
// each request. The message id left Control.RequestID out, so the stream
// took the cancel's answer for a repeat of the place's and dropped it.
func TestReviewOrderAcksOfTwoRequests(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventOrderAck}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "acks"})
	require.NoError(t, err)

	ingest.publish(t, orderAck(1))
	ingest.publish(t, orderAck(2))
	require.NoError(t, pub.Flush(closeCtx(t)))
	require.Equal(t, uint64(0), pub.Stats().ExecDuplicates, "the stream took the second answer for the first")
	for req := uint64(1); req <= 2; req++ {
		ev := next(t, got, ofType(schema.EventOrderAck))
		require.Equal(t, req, ev.Control.RequestID)
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// Two different reports never share a message id, whatever bytes their
// ids hold: a '|' inside an order id used to shift the fields ("a|b", ""
// made the id of "a", "b|"), and a line break, which a NATS header turns
// into a space, made the id of a space. The id is printable ASCII.
func TestReviewMsgIDInjective(t *testing.T) {
	report := func(cl, venueID string) *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventExecReport}
		ev.UseExec().ClientOrderID, ev.UseExec().VenueOrderID = schema.MustID(cl), schema.MustID(venueID)
		return ev
	}
	pairs := [][2]*schema.CanonicalEvent{
		{report("a|b", ""), report("a", "b|")},
		{report("a\nb", "1"), report("a b", "1")},
		{report("a%7Cb", "1"), report("a|b", "1")},
		{report("x", "1"), func() *schema.CanonicalEvent { ev := report("x", "1"); ev.Symbol = "BTC|USDT"; return ev }()},
	}
	var p Publisher
	for _, pair := range pairs {
		a, b := p.msgID(pair[0]), p.msgID(pair[1])
		require.NotEqual(t, a, b, "%q and %q", pair[0].Exec.ClientOrderID, pair[1].Exec.ClientOrderID)
		for _, id := range []string{a, b} {
			for i := range len(id) {
				require.True(t, id[i] > ' ' && id[i] < 0x7f, "byte %#x in %q", id[i], id)
			}
		}
	}
}

// An operator's stream (StreamOptions.NoCreate) that does not capture
// every subject the Publisher stores — the README listed exec_report and
// order_ack only, and account updates go there too — is refused by
// NewPublisher and NewConsumer with an error naming what is missing. It
// used to be accepted: each balance update was then retried forever at the
// head of the queue, and no execution report after it was ever stored.
func TestReviewOperatorStreamMissingSubjects(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv.ClientURL(), nil)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "OPS",
		Subjects: []string{"meltica.*.*.exec_report", "meltica.*.*.order_ack"}})
	require.NoError(t, err)
	ingest := newNode(t)
	opts := &PublisherOptions{Stream: StreamOptions{Name: "OPS", NoCreate: true}}
	_, err = NewPublisher(waitCtx(t), nc, ingest.d, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "meltica.*.*.balance")
	assert.Contains(t, err.Error(), "meltica.*.*.position")
	_, err = NewConsumer(waitCtx(t), nc, ingest.d, ingest.pools.Events,
		&ConsumerOptions{Durable: "ops", Stream: opts.Stream})
	require.Error(t, err)

	// A stream that captures them all, by wider filters, is taken.
	_, err = js.UpdateStream(waitCtx(t), jetstream.StreamConfig{Name: "OPS", Subjects: []string{"meltica.*.*.*"}})
	require.NoError(t, err)
	pub, err := NewPublisher(waitCtx(t), nc, ingest.d, opts)
	require.NoError(t, err)
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type = schema.VenueBinance, schema.EventBalance
		ev.UseBalance().Asset = schema.MustID("USDT")
	})
	ingest.publish(t, execReport(1))
	require.NoError(t, pub.Flush(closeCtx(t)))
	require.Equal(t, uint64(2), pub.Stats().ExecStored)
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
}

// An event larger than the server's max_payload crosses without its Raw
// (the venue payload, kept only "when kept"): an execution report that
// did not fit was retried forever at the head of the Publisher's queue,
// and no report after it was ever stored; a trade that did not fit was
// lost (a gap marker for a trade the venue sent whole).
func TestReviewLargerThanMaxPayload(t *testing.T) {
	const maxPayload = 4 << 10
	srv, err := embedded.StartWith(t.TempDir(), 0, func(o *server.Options) { o.MaxPayload = maxPayload })
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	reports := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	trades := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventTrade, schema.EventGap}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "large"})
	require.NoError(t, err)

	raw := bytes.Repeat([]byte("x"), 2*maxPayload)
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		execReport(0)(ev)
		ev.Raw = append(ev.Raw[:0], raw...)
	})
	ingest.publish(t, execReport(1))
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, 7
		ev.Trade.Price = schema.MustParseDecimal("65000.10")
		ev.Raw = append(ev.Raw[:0], raw...)
	})
	for i := range 2 {
		ev := next(t, reports, ofType(schema.EventExecReport))
		require.Equal(t, uint64(1000+i), mustUint(t, ev.Exec.TradeID.String()), "report %d", i)
		assert.Empty(t, ev.Raw)
	}
	ev := next(t, trades, anyEvent)
	require.Equal(t, schema.EventTrade, ev.Type, "the trade crosses, not a gap marker")
	assert.Equal(t, "65000.10", ev.Trade.Price.String())
	assert.Equal(t, uint64(2), pub.Stats().Trimmed)
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// An execution report the consumer cannot decode — a newer publisher's
// layout version during a rolling upgrade, another producer's message, a
// corrupt store — is terminated (it would otherwise hold every later
// report), and the host is told: a gap marker of one execution report, on
// the report's venue and symbol, whose reason names the error (an unknown
// version refused clearly), so that it reconciles the order with the venue
// instead of waiting for a report that will never come. It was terminated
// silently.
func TestReviewUndecodableReportAnnounced(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport, schema.EventGap}})
	nc := connect(t, srv.ClientURL(), nil)
	cons, err := NewConsumer(waitCtx(t), nc, far.d, far.pools.Events, &ConsumerOptions{Durable: "upgrade"})
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)

	report := &schema.CanonicalEvent{}
	execReport(1)(report)
	newer := wire.Append(nil, report, 0)
	newer[0] = wire.Version + 1
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventExecReport)
	_, err = js.Publish(closeCtx(t), subj, newer, jetstream.WithMsgID("newer"))
	require.NoError(t, err)
	_, err = js.Publish(closeCtx(t), subj, wire.Append(nil, report, 0), jetstream.WithMsgID("current"))
	require.NoError(t, err)

	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, ev.Type, "the host hears of the report it cannot read")
	assert.Equal(t, schema.EventExecReport, ev.Control.GapType)
	assert.Equal(t, uint64(1), ev.Control.GapCount)
	assert.Equal(t, schema.GapRelay, ev.Control.GapSource)
	assert.Equal(t, schema.VenueBinance, ev.Venue)
	assert.Equal(t, "BTC-USDT", ev.Symbol)
	assert.Contains(t, ev.Control.Reason, "unknown wire version")
	ev = next(t, got, anyEvent)
	require.Equal(t, schema.EventExecReport, ev.Type, "the next report is handed on")
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
	assert.Equal(t, uint64(1), cons.Stats().Malformed)
}

// A gap marker that travels on its stream's subject (a broken book on
// "….book_update") takes a number of that stream's bridge sequence, so
// that its own loss on the way shows as a jump like any message of the
// stream: it is the one message of the stream whose loss mattered most (a
// strategy applying diffs to a book the ingest node knew broken), and it
// was the one whose loss left no trace. A core message NATS refuses alone
// is not rare: a full reconnect buffer refuses a message that does not fit
// and takes a smaller one after it.
func TestReviewGapMarkerLossShows(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	nc := connect(t, srv.ClientURL(), nil)
	pub, err := NewPublisher(waitCtx(t), nc, ingest.d, nil)
	require.NoError(t, err)
	raw, err := nc.SubscribeSync(Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventBookUpdate))
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	diff := func(seq uint64) func(ev *schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventBookUpdate, seq
		}
	}
	marker := func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventGap
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3, GapSource: schema.GapVenue}
	}
	ingest.publish(t, diff(1))
	require.NoError(t, pub.Flush(closeCtx(t)))
	ingest.publish(t, marker)
	require.NoError(t, pub.Flush(closeCtx(t)))
	ingest.publish(t, diff(5))
	require.NoError(t, pub.Flush(closeCtx(t)))
	var d wire.Decoder
	for want := uint64(1); want <= 3; want++ {
		m, err := raw.NextMsg(generous)
		require.NoError(t, err)
		ev := &schema.CanonicalEvent{}
		seq, err := d.Decode(m.Data, ev)
		require.NoError(t, err)
		require.Equal(t, want, seq, "%s: the stream's bridge sequence", ev.Type)
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)

	// The consumer: a marker numbered in its stream is no loss; a marker
	// lost on the way is announced before the stream's next event.
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventBookUpdate, schema.EventGap}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	s := rawSender{t, nc}
	book := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
	gap := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap,
		Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3, GapSource: schema.GapVenue}}
	sendOn := func(ev *schema.CanonicalEvent, seq uint64) {
		subj := Subject(DefaultPrefix, ev.Venue, ev.Symbol, schema.EventBookUpdate)
		require.NoError(t, nc.Publish(subj, wire.Append(nil, ev, seq)))
		require.NoError(t, nc.Flush())
	}
	sendOn(book, 1)
	sendOn(gap, 2)
	sendOn(book, 3)
	sendOn(book, 4)
	// 5, a marker, lost.
	s.send(book, 6)
	want := []struct {
		typ    schema.EventType
		source schema.GapSource
		count  uint64
	}{
		{schema.EventBookUpdate, 0, 0},
		{schema.EventGap, schema.GapVenue, 3},
		{schema.EventBookUpdate, 0, 0},
		{schema.EventBookUpdate, 0, 0},
		{schema.EventGap, schema.GapRelay, 1},
		{schema.EventBookUpdate, 0, 0},
	}
	for i, w := range want {
		ev := next(t, got, anyEvent)
		require.Equal(t, w.typ, ev.Type, "event %d", i)
		if w.typ == schema.EventGap {
			require.Equal(t, w.source, ev.Control.GapSource, "event %d", i)
			require.Equal(t, w.count, ev.Control.GapCount, "event %d", i)
			require.Equal(t, schema.EventBookUpdate, ev.Control.GapType, "event %d", i)
		}
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// The NATS connection closed before the Publisher and the Consumer (a
// host that closed in the wrong order, or whose connection gave up): Close
// returns at once — with the reports left, for the Publisher — instead of
// retrying on a connection that can never come back until the caller's
// context ends (for ever, with context.Background()).
func TestReviewCloseAfterConnectionClosed(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pubConn, consConn := connect(t, srv.ClientURL(), nil), connect(t, srv.ClientURL(), nil)
	pub, err := NewPublisher(waitCtx(t), pubConn, ingest.d, nil)
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), consConn, far.d, far.pools.Events, &ConsumerOptions{Durable: "closed"})
	require.NoError(t, err)
	pubConn.Close()
	consConn.Close()
	ingest.publish(t, execReport(1))
	eventually(t, func() bool { return pub.Stats().ExecQueued == 1 }, "the report is queued")

	done := make(chan error, 2)
	go func() { done <- pub.Close(context.Background()) }()
	go func() { done <- cons.Close(context.Background()) }()
	var errs []error
	for range 2 {
		select {
		case err := <-done:
			errs = append(errs, err)
		case <-time.After(generous):
			t.Fatal("Close waits on a closed connection")
		}
	}
	pending := 0
	for _, err := range errs {
		if errors.Is(err, ErrExecPending) {
			pending++
			assert.ErrorIs(t, err, nats.ErrConnectionClosed)
		}
	}
	assert.Equal(t, 1, pending, "the Publisher says a report was left: %v", errs)
	ingest.close(t)
	far.close(t)
}

// The stream refuses a report (an operator's stream full, max_msgs with
// discard new): the report is retried, in order, none after it overtakes
// it, and stored once the operator makes room — none lost. (No fault found:
// this pins the guarantee.)
func TestReviewStreamFullRetried(t *testing.T) {
	cfg := jetstream.StreamConfig{Name: "FULL", Subjects: []string{"meltica.*.*.*"}, MaxMsgs: 2, Discard: jetstream.DiscardNew}
	b := newOpsBridge(t, cfg)
	for i := range 4 {
		b.ingest.publish(t, execReport(i))
	}
	eventually(t, func() bool {
		st := b.pub.Stats()
		return st.ExecStored == 2 && st.ExecRetries > 0 && st.ExecPending == 2
	}, "the third report is refused and retried: %+v", b.pub.Stats())
	cfg.MaxMsgs = 10
	_, err := b.js.UpdateStream(waitCtx(t), cfg)
	require.NoError(t, err)
	require.NoError(t, b.pub.Flush(closeCtx(t)))
	b.expectReports(t, 4)
	b.close(t)
}

// opsBridge is a Publisher and a Consumer on an operator's stream.
type opsBridge struct {
	js          jetstream.JetStream
	ingest, far *node
	pub         *Publisher
	cons        *Consumer
	reports     <-chan *schema.CanonicalEvent
}

// newOpsBridge creates the stream cfg as an operator would, then a
// Publisher and a Consumer with NoCreate on it.
func newOpsBridge(t *testing.T, cfg jetstream.StreamConfig) *opsBridge {
	srv := startServer(t)
	nc := connect(t, srv.ClientURL(), nil)
	b := &opsBridge{ingest: newNode(t), far: newNode(t)}
	var err error
	b.js, err = jetstream.New(nc)
	require.NoError(t, err)
	_, err = b.js.CreateStream(waitCtx(t), cfg)
	require.NoError(t, err)
	stream := StreamOptions{Name: cfg.Name, NoCreate: true}
	b.pub, err = NewPublisher(waitCtx(t), nc, b.ingest.d, &PublisherOptions{Stream: stream, PublishTimeout: generous})
	require.NoError(t, err)
	b.reports = b.far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	b.cons, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), b.far.d, b.far.pools.Events,
		&ConsumerOptions{Durable: "ops", Stream: stream})
	require.NoError(t, err)
	return b
}

// expectReports waits for reports 0 to n-1 of execReport, in order.
func (b *opsBridge) expectReports(t *testing.T, n int) {
	for i := range n {
		ev := next(t, b.reports, ofType(schema.EventExecReport))
		require.Equal(t, uint64(1000+i), mustUint(t, ev.Exec.TradeID.String()), "report %d", i)
	}
}

func (b *opsBridge) close(t *testing.T) {
	require.NoError(t, b.cons.Close(closeCtx(t)))
	require.NoError(t, b.pub.Close(closeCtx(t)))
	b.ingest.close(t)
	b.far.close(t)
}

// An operator's stream whose limits throw old reports away (max_msgs,
// max_bytes or max_msgs_per_subject with discard old) or whose retention
// is not limits (interest drops what no consumer has yet asked for; a work
// queue hands each report to one host) would lose reports no consumer has
// read, unannounced: NewPublisher and NewConsumer refuse it, saying why.
func TestReviewOperatorStreamThatDiscards(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv.ClientURL(), nil)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ingest := newNode(t)
	for i, cfg := range []jetstream.StreamConfig{
		{MaxMsgs: 1000},
		{MaxBytes: 1 << 20},
		{MaxMsgsPerSubject: 10},
		{Retention: jetstream.InterestPolicy},
		{Retention: jetstream.WorkQueuePolicy},
	} {
		// A prefix of its own: streams may not overlap.
		prefix := "ops" + strconv.Itoa(i)
		cfg.Name, cfg.Subjects = "OPS"+strconv.Itoa(i), []string{prefix + ".*.*.*"}
		_, err = js.CreateStream(waitCtx(t), cfg)
		require.NoError(t, err)
		stream := StreamOptions{Name: cfg.Name, NoCreate: true}
		_, err = NewPublisher(waitCtx(t), nc, ingest.d, &PublisherOptions{Prefix: prefix, Stream: stream})
		require.Error(t, err, "%+v", cfg)
		_, err = NewConsumer(waitCtx(t), nc, ingest.d, ingest.pools.Events, &ConsumerOptions{Prefix: prefix, Durable: "ops", Stream: stream})
		require.Error(t, err, "%+v", cfg)
		t.Log(err)
	}
	ingest.close(t)
}

// An operator's stream with a max_msg_size below the server's max_payload:
// a report over it crosses without its Raw, as over max_payload, instead of
// being refused by the stream for ever at the head of the queue.
func TestReviewLargerThanStreamMaxMsgSize(t *testing.T) {
	b := newOpsBridge(t, jetstream.StreamConfig{Name: "SMALL", Subjects: []string{"meltica.*.*.*"}, MaxMsgSize: 2048})
	b.ingest.publish(t, func(ev *schema.CanonicalEvent) {
		execReport(0)(ev)
		ev.Raw = append(ev.Raw[:0], bytes.Repeat([]byte("x"), 4096)...)
	})
	b.ingest.publish(t, execReport(1))
	b.expectReports(t, 2)
	assert.Equal(t, uint64(1), b.pub.Stats().Trimmed)
	b.close(t)
}

// The NATS connection's states reach the host's dispatcher even when its
// event pool is exhausted (a slow strategy holding events): a state that
// finds no event takes the reserve, or waits, in order, until one is free —
// as a gap marker does. It was dropped after PoolWait: the one moment the
// host most needs to hear that the feed is down, it did not.
func TestReviewStatesUnderPoolPressure(t *testing.T) {
	srv := startServer(t)
	far := newSmallNode(t)
	states := make(chan *schema.CanonicalEvent, 64)
	_, err := far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventConnState}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { states <- ev }})
	require.NoError(t, err)
	seen := make(chan StateEvent, 64)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events,
		&ConsumerOptions{PoolWait: 10 * time.Millisecond, OnState: func(e StateEvent) { seen <- e }})
	require.NoError(t, err)
	require.Equal(t, schema.ConnConnected, next(t, states, anyEvent).Control.State)
	awaitState(t, seen, schema.ConnConnected)

	far.hold(0)
	srv.Stop()
	// OnState runs after the state was published, or given up.
	awaitState(t, seen, schema.ConnDisconnected)
	awaitState(t, seen, schema.ConnReconnecting)
	far.release()
	assert.Equal(t, schema.ConnDisconnected, next(t, states, anyEvent).Control.State)
	assert.Equal(t, schema.ConnReconnecting, next(t, states, anyEvent).Control.State)
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}

// An ingest node that restarts and publishes again the reports it had
// published (a replay after a crash, a reconciliation) within the
// DuplicateWindow: the new Publisher makes the same message ids, the
// stream stores each report once, and the consumer hands each on once, in
// order. (No fault found: this pins the guarantee across restarts.)
func TestReviewPublisherRestartDeduplicated(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport, schema.EventOrderAck}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "restarted-ingest"})
	require.NoError(t, err)
	run := func(reports ...int) PublisherStats {
		ingest := newNode(t)
		pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
		require.NoError(t, err)
		for _, i := range reports {
			ingest.publish(t, execReport(i))
			ingest.publish(t, orderAck(uint64(i)))
		}
		require.NoError(t, pub.Flush(closeCtx(t)))
		require.NoError(t, pub.Close(closeCtx(t)))
		ingest.close(t)
		return pub.Stats()
	}
	run(0, 1)
	st := run(0, 1, 2)
	assert.Equal(t, uint64(4), st.ExecDuplicates, "reports 0 and 1 and their acks recognised by the stream")
	for i := range 3 {
		ev := next(t, got, anyEvent)
		require.Equal(t, schema.EventExecReport, ev.Type)
		require.Equal(t, uint64(1000+i), mustUint(t, ev.Exec.TradeID.String()))
		ack := next(t, got, anyEvent)
		require.Equal(t, schema.EventOrderAck, ack.Type)
		require.Equal(t, uint64(i), ack.Control.RequestID)
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
	select {
	case ev := <-got:
		t.Fatalf("handed on twice: %s %v", ev.Type, ev.Exec.TradeID)
	default:
	}
}

// Latest-wins is per stream (venue, symbol, type), not per subject: two
// symbols a subject token cannot tell apart ("BTC.USDT", "BTC_USDT") are
// two streams, and under an exhausted pool each keeps its own latest
// update. One replaced the other's, whose last price was then never
// delivered: a stale quote.
func TestReviewLatestPerStreamNotSubject(t *testing.T) {
	srv := startServer(t)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 64)
	_, err := far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, nil)
	require.NoError(t, err)
	s := rawSender{t, connect(t, srv.ClientURL(), nil)}
	bbo := func(sym, bid string) *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: sym, Type: schema.EventBBO}
		ev.BBO.BidPrice = schema.MustParseDecimal(bid)
		return ev
	}
	far.hold(0)
	s.send(bbo("BTC.USDT", "1.1"), 1)
	s.send(bbo("BTC_USDT", "2.2"), 1)
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both kept for want of an event")
	far.release()
	prices := map[string]string{}
	for range 2 {
		ev := next(t, got, anyEvent)
		prices[ev.Symbol] = ev.BBO.BidPrice.String()
	}
	assert.Equal(t, map[string]string{"BTC.USDT": "1.1", "BTC_USDT": "2.2"}, prices)
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}

// Close does not wait out PoolWait for a report that waits for an event
// (the host's pool exhausted at shutdown): the event Close gives back (the
// consumer's reserve) ends the wait, and the report is handed on once, or
// handed back. (No fault found: this pins it.)
func TestReviewCloseEndsPoolWait(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	far := newSmallNode(t)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events,
		&ConsumerOptions{Durable: "poolwait", PoolWait: time.Hour})
	require.NoError(t, err)
	far.hold(0)
	ingest.publish(t, execReport(0))
	require.NoError(t, pub.Flush(closeCtx(t)))
	eventually(t, func() bool { return far.events.Stats().Waits > 0 }, "the report waits for an event")

	closed := make(chan error, 1)
	go func() { closed <- cons.Close(closeCtx(t)) }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(generous):
		t.Fatal("Close waits out PoolWait")
	}
	st := cons.Stats()
	assert.Equal(t, uint64(1), st.ExecDelivered+st.ExecReturned, "the report handed on or back, once: %+v", st)
	far.release()
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}
