package natsbridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS40natsSharersPastMaxWaiting: Consumers sharing one Durable each
// keep their pulls within its MaxWaiting, not together: two on an
// operator's durable consumer of MaxWaiting 2 may ask for 3 pulls at once
// (the first pull's rest and the one after a report, and the other's).
// The server ignores the pull past MaxWaiting without a word (it asks
// for heartbeats: nats-server consumer.go processNextMsgRequest); the
// reports go to the pulls that wait, and a sharer left with none pulls
// again after missed heartbeats (about 10 s). Every report is delivered,
// none held: asserted here with a report at a time (MaxAckPending 1) and
// AckWait an hour, so that a report delivered into a pull nobody reads
// would not come within the test's wait.
func TestS40natsSharersPastMaxWaiting(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 0)
	_, err := js.CreateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: "s40sharers",
		AckPolicy: jetstream.AckExplicitPolicy, MaxWaiting: 2})
	require.NoError(t, err)
	got := make(chan *schema.CanonicalEvent, 256)
	var nodes []*node
	var conss []*Consumer
	for range 2 {
		n := newNode(t)
		_, err := n.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}},
			&dispatch.SubscribeOptions{OrderedBound: 256, Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
		require.NoError(t, err)
		cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), n.d, n.pools.Events,
			&ConsumerOptions{Durable: "s40sharers", AckWait: time.Hour})
		require.NoError(t, err)
		nodes, conss = append(nodes, n), append(conss, cons)
	}
	const n = 40
	for i := range n {
		ingest.publish(t, execReport(i))
	}
	seen := map[string]bool{}
	timeout := time.After(2 * generous)
	for len(seen) < n {
		select {
		case ev := <-got:
			seen[ev.Exec.TradeID.String()] = true
		case <-timeout:
			require.Fail(t, "reports held", "%d of %d: %v", len(seen), n, seen)
		}
	}
	for i := range n {
		require.True(t, seen[strconv.Itoa(1000+i)], "report %d", i)
	}
	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s40sharers")
	require.NoError(t, err)
	require.Equal(t, 2, jc.CachedInfo().Config.MaxWaiting)
	require.NoError(t, pub.Close(closeCtx(t)))
	var delivered uint64
	for _, cons := range conss {
		require.NoError(t, cons.Close(closeCtx(t)))
		delivered += cons.Stats().ExecDelivered
	}
	require.GreaterOrEqual(t, delivered, uint64(n))
	ingest.close(t)
	for _, n := range nodes {
		n.close(t)
	}
}
