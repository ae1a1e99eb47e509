package natsbridge

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS41natsSuspectHandedBackUntilLooked: a delivery that looks like one
// of a durable consumer an operator made again (report 0, handled, its
// first delivery: consumerRemade) is handed back and wakes the resumer.
// The server delivers it again at once (NumDelivered 2, 3), and only the
// first delivery was handed back: the next was handed on before the
// resumer's look set execReplayTo — report 0 reached the host twice
// (TestS38natsOperatorReplayNotRepeated, 1 run in ~30 under load). Here
// the Consumer's link goes silent first, so that the resumer cannot look:
// every delivery of report 0 is handed back while the suspicion is
// unanswered. The deliveries are an operator's consumer's of the same
// stream (DeliverAll), through the test's connection.
func TestS41natsSuspectHandedBackUntilLooked(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 5)
	proxy := newStall(t, srv.Addr().String(), nil)
	far, cons := handledAll(t, proxy.url(), "s41suspect", 2, 5)
	again := deliveriesOfFirst(t, js, "s41suspectop", 3)

	proxy.stalled.Store(true) // the resumer's look goes unanswered
	gen := currentGen(cons)
	for i, m := range again {
		cons.onExec(m, gen)
		require.Equal(t, uint64(5), cons.Stats().ExecDelivered, "report 0's delivery %d handed on", i+1)
		require.Greater(t, cons.execRemade.Load(), cons.execLooked.Load(), "the suspicion is unanswered")
	}
	require.Zero(t, cons.Stats().ExecDuplicate)

	// The link is dead: Close keeps to its ctx.
	t.Logf("Close over the dead link: %v", closeWithin(t, cons, 100*time.Millisecond))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// TestS41natsSuspicionAnsweredByLook: nothing is handed back for ever. A
// suspicion (consumerRemade) is answered once the resumer has read the
// durable consumer — here the Consumer's own, not made again: nothing to
// replay — and a later delivery of the same report is no longer handed
// back for it.
func TestS41natsSuspicionAnsweredByLook(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 3)
	far, cons := handledAll(t, srv.ClientURL(), "s41answered", 1, 3)
	again := deliveriesOfFirst(t, js, "s41answeredop", 2)
	gen := currentGen(cons)
	cons.onExec(again[0], gen)
	require.Equal(t, uint64(3), cons.Stats().ExecDelivered, "the first delivery handed back")
	eventually(t, func() bool { return cons.execLooked.Load() == cons.execRemade.Load() }, "the resumer looked")
	meta, err := again[1].Metadata()
	require.NoError(t, err)
	cons.execMu.Lock()
	remade := cons.consumerRemade(meta, gen)
	cons.execMu.Unlock()
	require.False(t, remade, "a delivery after the look is not handed back for the suspicion it answered")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// handledAll starts a Consumer on Durable durable (Dedup dedup) on a new
// connection to url, for a node far, and waits until it has handed on
// the n reports the stream holds, in order.
func handledAll(t *testing.T, url, durable string, dedup, n int) (*node, *Consumer) {
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, url, nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: durable, AckWait: generous, Dedup: dedup})
	require.NoError(t, err)
	for i := range n {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, anyEvent).Exec.TradeID.String())
	}
	eventually(t, func() bool { return cons.Stats().ExecDelivered == uint64(n) }, "the reports handled")
	// And the last one's ack confirmed: counted, it is still sent under
	// execMu, and a test that silences the link next held execMu until
	// AckWait (the next onExec waited 30 s).
	cons.execMu.Lock()
	cons.execMu.Unlock() //nolint:staticcheck // an empty critical section is the wait
	return far, cons
}

// deliveriesOfFirst returns n deliveries of the stream's first report by
// a consumer durable of the test's (DeliverAll, as an operator's made
// again is): its first, and each next one after the one before was
// handed back.
func deliveriesOfFirst(t *testing.T, js jetstream.JetStream, durable string, n int) []jetstream.Msg {
	op, err := js.CreateOrUpdateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: durable,
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: 1, AckWait: generous})
	require.NoError(t, err)
	var ms []jetstream.Msg
	for i := range n {
		batch, err := op.Fetch(1, jetstream.FetchMaxWait(generous))
		require.NoError(t, err)
		for m := range batch.Messages() {
			ms = append(ms, m)
		}
		require.NoError(t, batch.Error())
		require.Len(t, ms, i+1)
		meta, err := ms[i].Metadata()
		require.NoError(t, err)
		require.Equal(t, uint64(1), meta.Sequence.Stream)
		require.Equal(t, uint64(i+1), meta.NumDelivered)
		require.NoError(t, ms[i].Nak())
	}
	return ms
}

// currentGen reads c's execGen.
func currentGen(c *Consumer) uint64 {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	return c.execGen
}

// TestS41natsRefusalRestartLateReport: a Consume refused for a limit is
// stopped and another started (TestS40natsRefusalKeepsBufferedReports);
// report 0 is in hand, and report 1, delivered to the old Consume, waits
// at the door (the old Consume's goroutine took it before the stop). The
// resumer resets the durable consumer to its ack floor (reports 1 and 2,
// dropped by the stop, come again) and bumps the generation: report 1
// entering between the two, with the old generation, was handed on and
// acknowledged — an ack the server neither takes nor answers (report 1
// is no longer pending after the reset) — and its ack, sent again until
// AckWait (1 h here), held execMu: the new Consume was not started, and
// report 2 never came. The resumer is waiting for execMu before report 1
// reaches the door, so that it takes execMu first: it gets there once the
// old Consume reads as closed — at once when nats.go had unsubscribed it
// already, else when the try's wait ends (resumeTimeout) and the next try
// finds it so, report 0 still in hand (the race seen: report 1 then still
// to come to the door from the old Consume). Report 1's delivery is
// the test's own pull of the durable consumer (its ack subject is the
// durable consumer's, as the old Consume's was), made before the
// Consumer started, which reset it at start (resetPredecessors).
func TestS41natsRefusalRestartLateReport(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 3)
	const durable = "s41late"
	late := pulledBefore(t, js, durable, 3)[1] // report 1, stream sequence 2

	far, got, cons := reportInHandWith(t, srv.ClientURL(), nil, ConsumerOptions{Durable: durable, MaxAckPending: 3, AckWait: time.Hour}, 3)
	jc, err := js.Consumer(waitCtx(t), DefaultStream, durable)
	require.NoError(t, err)
	refusal := refuseBatch(t, js, jc)
	subs := cons.nc.NumSubscriptions()
	cons.execTrouble(refusal)
	eventually(t, func() bool { return cons.nc.NumSubscriptions() < subs }, "the old Consume stopped")
	eventually(t, resumerAtExecMu(t), "the resumer waits for execMu")
	lateDone := make(chan struct{})
	go func() {
		defer close(lateDone)
		cons.onExec(late, 1) // the old Consume's generation
	}()
	eventually(t, func() bool { return doorAt(cons, 2) == 1 }, "report 1 at the door")
	far.release()
	for i := range 3 {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, anyEvent).Exec.TradeID.String())
	}
	<-lateDone
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	require.Equal(t, uint64(3), cons.Stats().ExecDelivered)
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// resumerAtExecMu reports whether the resumer waits for execMu where
// resume resets and bumps the generation (the lock before "if info !=
// nil", its line read from resume.go). Any Mutex.Lock under resume did
// not do: a nats.go lock met on the way (Stop, Info, under -race and
// load) let report 1 enter before the resumer, with the generation
// current, and the test passed without the race it is about.
func resumerAtExecMu(t *testing.T) func() bool {
	src, err := os.ReadFile("resume.go")
	require.NoError(t, err)
	at := bytes.Index(src, []byte("\tc.execMu.Lock()\n\tif info != nil {\n\t\tc.resetUnreceived("))
	require.GreaterOrEqual(t, at, 0, "resume.go: the lock before the reset")
	line := "/resume.go:" + strconv.Itoa(bytes.Count(src[:at], []byte("\n"))+1)
	return func() bool { return resumerAt(line) }
}

// resumerAt reports whether a goroutine waits for a sync.Mutex that
// resume locks at line ("/resume.go:N").
func resumerAt(line string) bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		fn := bytes.Index(g, []byte("natsbridge.(*Consumer).resume("))
		if fn < 0 || !bytes.Contains(g[:fn], []byte("sync.(*Mutex).Lock")) {
			continue
		}
		// The resume frame's own line follows its function line.
		frame, _, _ := bytes.Cut(g[fn:], []byte(" +0x"))
		if bytes.HasSuffix(frame, []byte(line)) {
			return true
		}
	}
	return false
}
