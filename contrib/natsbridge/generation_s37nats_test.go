package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS37natsOldConsumeLateNoFalseLoss: after a resume an old Consume's
// delivery may still wait for execMu (the door) while the new
// Consume's deliveries count. Its NumPending and consumer sequence are
// the old consumer's: read against the new one's count they made
// reports look removed from the stream (ExecLost, a gap marker sending
// the host to reconcile every order) when nothing was. Only the current
// Consume's deliveries count. The old consumer here is one of the
// test's, started later in the stream (as a consumer made again is), so
// that its delivery's consumer sequence is past the new one's and its
// NumPending short of it.
func TestS37natsOldConsumeLateNoFalseLoss(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 5)

	// Report 0 in hand (NumPending 4 after it), waiting for an event.
	far, got, cons := reportInHand(t, srv.ClientURL(), nil, ConsumerOptions{Durable: "s37gen"})

	// The old Consume's late delivery: report 4, its consumer's third
	// (consumer sequence 3, NumPending 0).
	m := lateDelivery(t, js, "s37old", 3, 3)
	meta, err := m.Metadata()
	require.NoError(t, err)
	require.Equal(t, uint64(5), meta.Sequence.Stream)
	require.Equal(t, uint64(3), meta.Sequence.Consumer)
	handLate(t, cons, far, m)
	eventually(t, func() bool { return cons.Stats().ExecDelivered == 5 }, "5 reports (the late one handed back: TestS37rvnatsOldConsumeLateInOrder)")
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Zero(t, stats.ExecLost, "nothing was removed: %+v", stats)
	require.Equal(t, uint64(5), stats.ExecDelivered, "%+v", stats)
	for len(got) > 0 {
		ev := <-got
		require.NotEqual(t, schema.EventGap, ev.Type, "no report was removed: %s", reasonOf(ev))
	}
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// lateDelivery returns the n-th delivery of a consumer durable of the
// test's that starts at stream sequence start: a replaced Consume's late
// delivery (a consumer made again starts later in the stream).
func lateDelivery(t *testing.T, js jetstream.JetStream, durable string, start uint64, n int) jetstream.Msg {
	old, err := js.CreateOrUpdateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: durable,
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
	require.NoError(t, err)
	batch, err := old.Fetch(n, jetstream.FetchMaxWait(generous))
	require.NoError(t, err)
	var m jetstream.Msg
	for msg := range batch.Messages() {
		m = msg
	}
	require.NoError(t, batch.Error())
	require.NotNil(t, m)
	return m
}

// handLate has cons take m as a delivery of a generation before the
// current one while report 0 is in hand (reportInHand), waits until m is
// at the door, releases far's events and waits until m's delivery
// returned.
func handLate(t *testing.T, cons *Consumer, far *smallNode, m jetstream.Msg) {
	meta, err := m.Metadata()
	require.NoError(t, err)
	oldDone := make(chan struct{})
	go func() {
		defer close(oldDone)
		cons.onExec(m, 0) // a generation before the current one
	}()
	eventually(t, func() bool { return doorAt(cons, meta.Sequence.Stream) == 1 }, "the old delivery at the door")
	far.release()
	<-oldDone
}

// inHand reports whether a delivery holds execMu (one past the door,
// waiting inside for an event): the count of a door empty is also that of
// a delivery nats.go has not handed to onExec yet.
func inHand(c *Consumer) bool {
	if c.execMu.TryLock() {
		c.execMu.Unlock()
		return false
	}
	return true
}

// reportInHand starts a Consumer with opts (AckWait generous and PoolWait
// 1 h unless set) on a new connection to url (via: nil or a dialer's),
// for a far node whose event pool is all held, and waits until the
// server's first report (stream sequence 1) is in its hands, waiting for
// an event. got receives the far node's execution reports and the gap
// markers about them.
func reportInHand(t *testing.T, url string, via *ConnectOptions, opts ConsumerOptions) (far *smallNode, got <-chan *schema.CanonicalEvent, cons *Consumer) {
	return reportInHandWith(t, url, via, opts, 1)
}

// reportInHandWith is reportInHand where the stream holds n reports when
// the Consumer starts: the first in hand, the n-1 after it delivered into
// its Consume behind it (MaxAckPending n at least).
func reportInHandWith(t *testing.T, url string, via *ConnectOptions, opts ConsumerOptions, n uint64) (far *smallNode, got <-chan *schema.CanonicalEvent, cons *Consumer) {
	far = newSmallNode(t)
	ch := make(chan *schema.CanonicalEvent, 64)
	_, err := far.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { ch <- ev }})
	require.NoError(t, err)
	far.hold(0)
	if opts.AckWait == 0 {
		opts.AckWait = generous
	}
	if opts.PoolWait == 0 {
		opts.PoolWait = time.Hour
	}
	cons, err = NewConsumer(waitCtx(t), connect(t, url, via), far.d, far.events, &opts)
	require.NoError(t, err)
	jc, err := cons.execResume.js.Consumer(waitCtx(t), cons.opts.Stream.Name, opts.Durable)
	require.NoError(t, err)
	eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.NumAckPending == int(n) && info.Delivered.Stream == n && doorAt(cons, 1) == 0 && inHand(cons)
	}, "report 0 in hand")
	return far, ch, cons
}
