package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS38rvnatsReplayKeepsUnhandled: reports 0 and 1 are delivered to
// another reader of the Durable (a second node sharing it, or this node's
// reports delivered into a link that died, MaxAckPending 2); report 1 is
// acknowledged, report 0 never (its reader died). The Consumer starts
// while that reader's pull still waits (no reset at start), handles
// report 2, and an operator then deletes the durable consumer and makes it
// again with DeliverAll. Report 0 was never handed on by anyone, yet it
// lies below the last report the Consumer handled and was not handed back
// by it: the replay rule dropped it as a duplicate — an execution report
// lost without a marker. Only what the Consumer handled, or what lies
// below its first report, may be dropped by stream sequence: report 0
// must reach the host.
func TestS38rvnatsReplayKeepsUnhandled(t *testing.T) {
	u := unhandledBelow(t, "s38rvshared")
	ingest, pub, js, cons, got, far, cfg := u.ingest, u.pub, u.js, u.cons, u.got, u.far, u.cfg

	eventually(t, func() bool {
		_ = js.DeleteConsumer(waitCtx(t), DefaultStream, "s38rvshared")
		_, err := js.CreateConsumer(waitCtx(t), DefaultStream, cfg)
		return err == nil
	}, "the operator's consumer made")
	ingest.publish(t, execReport(3))
	var ids []string
	for len(ids) == 0 || ids[len(ids)-1] != "1003" {
		ids = append(ids, next(t, got, anyEvent).Exec.TradeID.String())
	}
	require.Contains(t, ids, "1000", "report 0, never handed on, dropped as a duplicate: %v", ids)

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// TestS38rvnatsSeqGaps: the record of sequences not handled splits a gap
// a late report fills, and past maxSeqGaps ranges merges the two lowest
// (reading as not handled what was: a duplicate on a replay, never a loss).
func TestS38rvnatsSeqGaps(t *testing.T) {
	var g seqGaps
	g.reset(2)
	for _, seq := range []uint64{3, 7, 5, 10} {
		g.handled(seq)
	}
	require.Equal(t, [][2]uint64{{4, 4}, {6, 6}, {8, 9}}, g.gaps)
	for seq, want := range map[uint64]bool{1: false, 2: false, 3: false, 4: true, 5: false, 6: true, 8: true, 9: true, 10: false, 11: false} {
		require.Equal(t, want, g.has(seq), "seq %d", seq)
	}
	g.handled(4)
	g.handled(8)
	require.Equal(t, [][2]uint64{{6, 6}, {9, 9}}, g.gaps)

	g.reset(0)
	for i := range uint64(maxSeqGaps + 2) {
		g.handled(2*i + 2) // 1, 3, 5, … not handled
	}
	require.Len(t, g.gaps, maxSeqGaps)
	require.Equal(t, [2]uint64{1, 5}, g.gaps[0], "the lowest merged: 2 and 4 read as not handled")
	require.True(t, g.has(2))
	require.False(t, g.has(6))
	require.Equal(t, 0.0, testing.AllocsPerRun(100, func() { g.handled(g.top + 2) }), "bounded in place")
}

// unhandled is what unhandledBelow leaves: report 0 (stream sequence 1)
// delivered to another reader and never acknowledged, report 1 acknowledged
// by it, report 2 handed on by cons; cfg is the durable consumer's
// configuration as the other reader made it.
type unhandled struct {
	srv    *embedded.Server
	ingest *node
	pub    *Publisher
	js     jetstream.JetStream
	cons   *Consumer
	got    <-chan *schema.CanonicalEvent
	far    *node
	cfg    jetstream.ConsumerConfig
}

// unhandledBelow makes, of the Durable durable (MaxAckPending 2), a report
// below the last the Consumer handled that it never handled: reports 0 and
// 1 delivered to another reader (a second node sharing it, or this node's
// reports delivered into a link that died), report 1 acknowledged, report 0
// never (its reader died) — a gap in the Consumer's seqGaps.
func unhandledBelow(t *testing.T, durable string) unhandled {
	stream := StreamOptions{Memory: true} // as TestS38natsOperatorReplayNotRepeated
	srv, ingest, pub, js := storedReportsIn(t, stream, 3)
	cfg := jetstream.ConsumerConfig{Durable: durable, AckPolicy: jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: 2, AckWait: time.Hour}
	dc, err := js.CreateConsumer(waitCtx(t), DefaultStream, cfg)
	require.NoError(t, err)
	batch, err := dc.Fetch(2)
	require.NoError(t, err)
	var held []jetstream.Msg
	for m := range batch.Messages() {
		held = append(held, m)
	}
	require.NoError(t, batch.Error())
	require.Len(t, held, 2, "reports 0 and 1 in the other reader's hands")

	// The other reader's pull waits (MaxAckPending reached): a live reader
	// at the Consumer's start, which then resets nothing.
	other := connect(t, srv.ClientURL(), nil)
	inbox := other.NewRespInbox()
	_, err = other.SubscribeSync(inbox)
	require.NoError(t, err)
	require.NoError(t, other.PublishRequest("$JS.API.CONSUMER.MSG.NEXT."+DefaultStream+"."+durable, inbox, []byte(`{"batch":1,"expires":30000000000}`)))
	eventually(t, func() bool {
		c, err := js.Consumer(waitCtx(t), DefaultStream, durable)
		return err == nil && c.CachedInfo().NumWaiting == 1
	}, "the other reader's pull waits")

	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: durable, AckWait: time.Hour, MaxAckPending: 2, Dedup: 2, Stream: stream})
	require.NoError(t, err)
	eventually(t, func() bool {
		c, err := js.Consumer(waitCtx(t), DefaultStream, durable)
		return err == nil && c.CachedInfo().NumWaiting == 2
	}, "the Consumer's pull waits too")
	other.Close() // its pull dropped; report 0 stays unacknowledged
	eventually(t, func() bool {
		c, err := js.Consumer(waitCtx(t), DefaultStream, durable)
		return err == nil && c.CachedInfo().NumWaiting == 1
	}, "the other reader's pull dropped: report 2 is not delivered into it")
	require.NoError(t, held[1].Ack())
	require.Equal(t, "1002", next(t, got, anyEvent).Exec.TradeID.String())
	eventually(t, func() bool {
		c, err := js.Consumer(waitCtx(t), DefaultStream, durable)
		return err == nil && c.CachedInfo().AckFloor.Stream == 0 && c.CachedInfo().NumAckPending == 1
	}, "report 2 acknowledged, report 0 pending")

	return unhandled{srv, ingest, pub, js, cons, got, far, cfg}
}
