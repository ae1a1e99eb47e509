package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// TestS35rvnatsStartBesideALiveConsumerNoReset: a Consumer starts on a
// Durable another live Consumer reads (ConsumerOptions.Durable asks for
// one node each; nothing enforces it), while that one holds a report
// whose ack the server has not confirmed. The starting Consumer read the
// report waiting for its ack as a dead predecessor's and reset the
// durable consumer (resetPredecessors): the live one's report was
// delivered again — to either node, whose dedup does not know the other's
// ids — counted ExecResumed and logged as a predecessor's. A live reader
// is told by the server (pull requests waiting, NumWaiting; a closed
// connection's are dropped): no reset, and a Warn that the Durable is
// shared.
func TestS35rvnatsStartBesideALiveConsumerNoReset(t *testing.T) {
	d := &s35LossDialer{lost: make(chan struct{})}
	b := newS35Bridge(t, "s35rvshare", 0, func(addr string) nats.CustomDialer { d.addr = addr; return d })
	d.hold.Store(true)
	b.ingest.publish(t, execReport(0))
	b.nextReport(t, 0)
	eventually(t, func() bool { return d.swallowed.Load() >= 1 }, "report 0's ack swallowed: the live Consumer holds it")

	other := newNode(t)
	var log logBuf
	cons, err := NewConsumer(waitCtx(t), connect(t, b.srv.ClientURL(), nil), other.d, other.pools.Events,
		&ConsumerOptions{Durable: "s35rvshare", AckWait: time.Hour, Logger: log.logger()})
	require.NoError(t, err)
	st := cons.Stats()
	require.Zero(t, st.ExecResumed, "a live Consumer's report is not a predecessor's: %+v", st)
	require.Empty(t, log.lines("level=WARN", "predecessor"))
	require.Len(t, log.lines("level=WARN", "another"), 1, "the shared Durable is told")

	d.hold.Store(false)
	require.NoError(t, cons.Close(closeCtx(t)))
	other.close(t)
	require.Equal(t, uint64(1), b.finish(t, 1).ExecDelivered)
}
