package natsbridge

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// unanswered returns p with the reply subject taken off each ack ("PUB
// $JS.ACK.… <reply> 4\r\n+ACK\r\n") of a stream sequence mute picks: the
// server applies the ack and confirms nothing — a confirmation that never
// comes (lost on its way back, or the server busy).
func unanswered(p []byte, mute func(streamSeq string) bool) []byte {
	var out []byte
	for {
		i := bytes.Index(p, []byte("PUB $JS.ACK."))
		if i < 0 {
			return append(out, p...)
		}
		end := bytes.Index(p[i:], []byte("\r\n"))
		if end < 0 {
			return append(out, p...)
		}
		line := p[i : i+end]
		f := bytes.Fields(line)
		rest := p[i+end+2:]
		out = append(out, p[:i]...)
		if len(f) == 4 && bytes.HasPrefix(rest, []byte("+ACK\r\n")) && mute(ackStreamSeq(string(f[1]))) {
			out = append(out, bytes.Join([][]byte{f[0], f[1], f[3]}, []byte(" "))...)
		} else {
			out = append(out, line...)
		}
		out = append(out, "\r\n"...)
		p = rest
	}
}

// confirming counts the goroutines waiting for the server to confirm an
// ack (confirm), the delivery's own and those aside.
func confirming() int {
	buf := make([]byte, 1<<22)
	return bytes.Count(buf[:runtime.Stack(buf, true)], []byte("natsbridge.(*Consumer).confirm("))
}

// muteDialer is a cutDialer whose acks of the stream sequences mute picks
// go unanswered while muted is set.
func muteDialer(muted *atomic.Bool, mute func(string) bool) *cutDialer {
	return &cutDialer{cut: func(p []byte) []byte {
		if !muted.Load() {
			return p
		}
		return unanswered(p, mute)
	}}
}

// storeRaw stores report i (execReport) in the stream itself, in order with
// the other nodes' messages the test stores.
func storeRaw(t *testing.T, js jetstream.JetStream, i int) {
	ev := new(schema.CanonicalEvent)
	execReport(i)(ev)
	_, err := js.PublishMsg(waitCtx(t), &nats.Msg{Subject: Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), Data: wire.Append(nil, ev, 0)},
		jetstream.WithMsgID("s44nats-"+strconv.Itoa(i)))
	require.NoError(t, err)
}

// TestS44natsForeignAckAside: a Consumer whose Subjects overlap reads the
// whole stream and acknowledges the reports of other nodes it does not
// want. It waited for each such ack's confirmation on the delivery
// goroutine, holding execMu: a round trip per foreign report before the
// next (MaxAckPending 1), and, a confirmation that does not come, the
// next report for AckWait (an hour here). The stream alternates foreign
// and wanted reports; the foreign ones' acks reach the server (which
// applies them and delivers the next) but their confirmations never come
// back. Every wanted report is handed on while the four foreign
// confirmations are still awaited — aside, as a duplicate's are; once
// they come, all are confirmed and Close has nothing left.
func TestS44natsForeignAckAside(t *testing.T) {
	const n = 4
	srv := startServer(t)
	ingest, pub, js := storedReportsOn(t, srv, StreamOptions{}, 0)
	for i := range n {
		_, err := js.Publish(waitCtx(t), DefaultPrefix+".okx.BTC-USDT.exec_report", []byte("another node's")) // stream sequence 2i+1
		require.NoError(t, err)
		storeRaw(t, js, i) // 2i+2
	}

	var muted atomic.Bool
	muted.Store(true)
	d := muteDialer(&muted, func(seq string) bool { n, _ := strconv.Atoi(seq); return n%2 == 1 })
	d.addr = srv.Addr().String()
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	nc := connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}})
	before := confirming()
	cons, err := NewConsumer(waitCtx(t), nc, far.d, far.pools.Events, &ConsumerOptions{Durable: "s44foreign",
		Subjects: []string{DefaultPrefix + ".binance.>", DefaultPrefix + ".binance.BTC-USDT.*"}, AckWait: time.Hour})
	require.NoError(t, err)
	for i := range n {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, anyEvent).Exec.TradeID.String(), "a wanted report held behind a foreign one's ack")
	}
	eventually(t, func() bool { return cons.Stats().ExecDelivered == n }, "the wanted reports handled")
	eventually(t, func() bool { return confirming()-before == n }, "the foreign acks' confirmations awaited aside")

	muted.Store(false) // sent again (ackRetry), confirmed
	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s44foreign")
	require.NoError(t, err)
	eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.AckFloor.Stream == 2*n && info.NumAckPending == 0
	}, "every report acknowledged")
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	require.Equal(t, before, confirming(), "Close waited for the confirmations aside")
	st := cons.Stats()
	require.Zero(t, st.AckErrors, "%+v", st)
	require.Equal(t, uint64(n), st.ExecDelivered)
	require.Zero(t, st.ExecDuplicate)
	ingest.close(t)
	far.close(t)
}

// TestS44natsDuplicateStormBounded: a storm of duplicates whose acks'
// confirmations do not come — the durable consumer reset to its first
// report after every report was handled, each delivered again and dropped
// by its id — took a goroutine per duplicate, each waiting for AckWait
// (an hour here): as many as the server delivers, MaxAckPending at a time
// and one more for each ack it takes. maxAsideAcks wait aside; the next
// duplicate's confirmation is waited for in place, which holds the
// deliveries after it. Close, its ctx ended, waits for all of them: none
// outlives it.
func TestS44natsDuplicateStormBounded(t *testing.T) {
	const n = 2*maxAsideAcks + 8
	srv, ingest, pub, js := storedReports(t, n)
	var muted atomic.Bool
	d := muteDialer(&muted, func(string) bool { return true })
	d.addr = srv.Addr().String()
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	nc := connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}})
	before := confirming()
	cons, err := NewConsumer(waitCtx(t), nc, far.d, far.pools.Events, &ConsumerOptions{Durable: "s44storm", AckWait: time.Hour})
	require.NoError(t, err)
	for i := range n {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, anyEvent).Exec.TradeID.String())
	}
	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s44storm")
	require.NoError(t, err)
	eventually(t, func() bool {
		info, err := jc.Info(waitCtx(t))
		return err == nil && info.AckFloor.Stream == n && info.NumAckPending == 0
	}, "every report acknowledged")

	muted.Store(true)
	_, err = js.ResetConsumerToSequence(waitCtx(t), DefaultStream, "s44storm", 1)
	require.NoError(t, err)
	eventually(t, func() bool {
		return cons.Stats().ExecDuplicate == maxAsideAcks+1 && cons.asideFull.Load() == 1 && confirming()-before == maxAsideAcks+1
	}, "maxAsideAcks confirmations aside, the next in place")
	require.Len(t, cons.asideSlots, maxAsideAcks)

	err = closeWithin(t, cons, 100*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded, "Close says what it could not finish")
	require.Equal(t, before, confirming(), "a confirmation outlived Close")
	st := cons.Stats()
	require.Equal(t, uint64(maxAsideAcks+1), st.AckErrors, "%+v", st)
	require.Equal(t, uint64(n), st.ExecDelivered)
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
	select {
	case ev := <-got:
		t.Fatalf("a report reached the host again: %+v", ev)
	default:
	}
}
