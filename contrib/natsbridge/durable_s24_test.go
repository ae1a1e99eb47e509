package natsbridge

// Review s24: the durable consumer and the stream of execution reports
// vanishing under a running bridge. nats.go's Consume stops for good when
// its consumer is deleted (jetstream/pull.go handleStatusMsg: "consumer
// deleted" is terminal) and nothing recreates a consumer or a stream
// that is gone; people hit it when an operator deletes a consumer, when a
// stream is deleted and created again to change an immutable field, and
// when a memory stream is lost with a server restart (centrifugal/
// centrifugo#1166 "consumer deleted ... never consumes from that stream
// again until the process is restarted, while looking perfectly healthy";
// nats-io/nats.go#1729, #1793; nats-io/nats-server#3969). Execution
// reports must never stop silently (DESIGN.md contracts 3 and 5).

import (
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

type durableRig struct {
	t      *testing.T
	ingest *node
	far    *node
	pub    *Publisher
	cons   *Consumer
	got    <-chan *schema.CanonicalEvent
	js     jetstream.JetStream
}

func newDurableRig(t *testing.T, stream StreamOptions) *durableRig {
	srv := startServer(t)
	r := &durableRig{t: t, ingest: newNode(t), far: newNode(t)}
	var err error
	r.pub, err = NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), r.ingest.d, &PublisherOptions{Stream: stream})
	require.NoError(t, err)
	r.got = r.far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	r.cons, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), r.far.d, r.far.pools.Events,
		&ConsumerOptions{Durable: "s24", Stream: stream, Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil))})
	require.NoError(t, err)
	r.js, err = jetstream.New(connect(t, srv.ClientURL(), nil))
	require.NoError(t, err)
	return r
}

// report publishes report i and waits for the far side to get it.
func (r *durableRig) report(i int) {
	r.t.Helper()
	r.ingest.publish(r.t, execReport(i))
	ev := next(r.t, r.got, ofType(schema.EventExecReport))
	assert.Equal(r.t, uint64(1000+i), mustUint(r.t, ev.Exec.TradeID.String()), "reports out of order or repeated")
}

// acked waits until the server has the acks of the first n reports: a
// deletion while an ack is in flight would hold delivery for AckWait (the
// ack's confirmation never comes), which is not what these tests test.
func (r *durableRig) acked(durable string, n uint64) {
	r.t.Helper()
	eventually(r.t, func() bool {
		ci, err := r.js.Consumer(waitCtx(r.t), DefaultStream, durable)
		if err != nil {
			return false
		}
		info := ci.CachedInfo()
		return info.AckFloor.Stream >= n && info.NumAckPending == 0
	}, "acks confirmed")
}

func (r *durableRig) close() {
	require.NoError(r.t, r.pub.Close(closeCtx(r.t)))
	require.NoError(r.t, r.cons.Close(closeCtx(r.t)))
	r.ingest.close(r.t)
	r.far.close(r.t)
}

// An operator deletes the durable consumer under a running Consumer: the
// Consumer creates it again and goes on from where it was — the reports
// published meanwhile arrive, none handed on twice.
func TestS24DurableConsumerDeletedRecreated(t *testing.T) {
	r := newDurableRig(t, StreamOptions{})
	r.report(0)
	r.report(1)
	r.acked("s24", 2)
	require.NoError(t, r.js.DeleteConsumer(waitCtx(t), DefaultStream, "s24"))
	r.report(2)
	r.report(3)
	r.close()
	assert.Equal(t, uint64(4), r.cons.Stats().ExecDelivered)
	assert.Equal(t, uint64(1), r.cons.Stats().ExecResumed)
	assert.Zero(t, r.cons.Stats().ExecDuplicate, "made again after the last report handled, not from the start")
}

// The stream is deleted and created again (to change an immutable field,
// or lost as a memory stream is with its server): the Publisher creates
// it again and stores the reports waiting, and the Consumer reads the new
// stream from its start.
func TestS24StreamRecreated(t *testing.T) {
	r := newDurableRig(t, StreamOptions{Memory: true})
	r.report(0)
	r.acked("s24", 1)
	require.NoError(t, r.js.DeleteStream(waitCtx(t), DefaultStream))
	r.report(1)
	r.report(2)
	r.close()
	assert.Equal(t, uint64(3), r.cons.Stats().ExecDelivered)
	assert.Positive(t, r.cons.Stats().ExecResumed)
}

// A memory stream is lost with its server's restart, the durable consumer
// with it: after the restart the Publisher stores into a stream made
// again, and the Consumer, which hears no more heartbeats from its
// consumer, makes it again on the new stream.
func TestS24MemoryStreamLostWithServerRestart(t *testing.T) {
	srv := startServer(t)
	var dialer embedded.Dialer
	dialer.Follow(srv)
	via := &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(&dialer)}}
	stream := StreamOptions{Memory: true}
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), via), ingest.d, &PublisherOptions{Stream: stream})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), via), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s24mem", Stream: stream})
	require.NoError(t, err)
	r := &durableRig{t: t, ingest: ingest, far: far, pub: pub, cons: cons, got: got}
	r.report(0)

	srv2, err := srv.Restart()
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)
	dialer.Follow(srv2)
	r.report(1)
	r.report(2)
	r.close()
	assert.Positive(t, cons.Stats().ExecResumed)
	assert.Equal(t, uint64(3), cons.Stats().ExecDelivered)
}

// With no Consumer running to make it again, the Publisher makes the
// stream again itself: reports are not held for ever by a stream that is
// gone.
func TestS24PublisherMakesStreamAgain(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	js, err := jetstream.New(connect(t, srv.ClientURL(), nil))
	require.NoError(t, err)
	ingest.publish(t, execReport(0))
	eventually(t, func() bool { return pub.Stats().ExecStored == 1 }, "stored")
	require.NoError(t, js.DeleteStream(waitCtx(t), DefaultStream))
	ingest.publish(t, execReport(1))
	eventually(t, func() bool { return pub.Stats().ExecStored == 2 }, "stored in the stream made again")
	assert.Equal(t, uint64(1), pub.Stats().StreamCreated)
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.CachedInfo().State.Msgs)
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
}

// tWriter writes a logger's lines to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// A gap marker about execution reports (session's reconciliation giving up
// on an order: "its reports may be lost", GapType EventExecReport, the
// order in Exec.VenueOrderID) is as critical as the reports it speaks for.
// On core NATS with no sequence its loss could not even be told: a
// strategy host whose consumer was down when it passed would never learn
// that its order's fate is unknown. It travels with the reports, stored in
// the stream: a consumer that starts later gets it, in order with them.
func TestS24ExecGapMarkerDurable(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	ingest.publish(t, execReport(0))
	marker := func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventGap
		ev.UseExec().VenueOrderID = schema.MustID("778899")
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, GapSource: schema.GapVenue,
			Code: -2013, Reason: "reconciliation: order lookup failed"}
	}
	ingest.publish(t, marker)
	ingest.publish(t, execReport(1))
	// The same marker again, made at the same time (IngestTS and all): one
	// event published twice, stored once. (The next pass's is made later:
	// TestS24rvExecGapMarkersOfTwoPassesBothArrive.)
	ingest.publish(t, marker)
	require.NoError(t, pub.Flush(waitCtx(t)))

	// The strategy host starts only now.
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{Durable: "late"})
	require.NoError(t, err)
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventExecReport, ev.Type)
	ev = next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, ev.Type, "the marker about the order's reports was lost on the way")
	assert.Equal(t, schema.EventExecReport, ev.Control.GapType)
	assert.Equal(t, "778899", ev.Exec.VenueOrderID.String())
	assert.Equal(t, int64(-2013), ev.Control.Code)
	ev = next(t, got, anyEvent)
	require.Equal(t, schema.EventExecReport, ev.Type)
	assert.Equal(t, "1001", ev.Exec.TradeID.String())
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	assert.Equal(t, uint64(4), pub.Stats().ExecStored)
	assert.Equal(t, uint64(1), pub.Stats().ExecDuplicates, "the same marker twice is stored once")
	ingest.close(t)
	far.close(t)
}

// Close while the Consumer is making its durable consumer again (or about
// to): no goroutine is left, nothing waits for ever.
// (A memory stream: a file stream the server creates while it shuts down
// leaves goroutines of the server's behind, which goleak would report.)
func TestS24CloseWhileResuming(t *testing.T) {
	r := newDurableRig(t, StreamOptions{Memory: true})
	r.report(0)
	r.acked("s24", 1)
	require.NoError(t, r.js.DeleteStream(waitCtx(t), DefaultStream))
	require.NoError(t, r.cons.Close(closeCtx(t)))
	require.NoError(t, r.pub.Close(closeCtx(t)))
	r.ingest.close(t)
	r.far.close(t)
}
