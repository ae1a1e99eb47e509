package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS36rvnatsSharedDurableNoFalseLoss: two Consumers read one Durable
// (ConsumerOptions.Durable: they split its reports; the package doc
// allows it, with a Warn). Each sees the reports the server delivers to
// the other as missing from its NumPending count: nothing was removed
// from the stream, yet each announced reports lost (ExecLost, a gap
// marker sending its host to reconcile every order). The deliveries to
// the other show in the consumer sequence, which counts every delivery:
// those between two of one Consumer's explain as many missing.
func TestS36rvnatsSharedDurableNoFalseLoss(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)

	const reports = 40
	a, b := newNode(t), newNode(t)
	f := dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}
	gotA, gotB := a.collect(t, f), b.collect(t, f)
	opts := &ConsumerOptions{Durable: "s36share", AckWait: generous}
	ca, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), a.d, a.pools.Events, opts)
	require.NoError(t, err)
	cb, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), b.d, b.pools.Events, opts)
	require.NoError(t, err)
	for i := range reports {
		ingest.publish(t, execReport(i))
	}
	eventually(t, func() bool {
		return ca.Stats().ExecDelivered+cb.Stats().ExecDelivered+ca.Stats().ExecLost+cb.Stats().ExecLost >= reports
	}, "every report handed on by one of the two")
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, ca.Close(closeCtx(t)))
	require.NoError(t, cb.Close(closeCtx(t)))
	sa, sb := ca.Stats(), cb.Stats()
	t.Logf("split %d / %d", sa.ExecDelivered, sb.ExecDelivered)
	require.Zero(t, sa.ExecLost, "%+v", sa)
	require.Zero(t, sb.ExecLost, "%+v", sb)
	require.Equal(t, uint64(reports), sa.ExecDelivered+sb.ExecDelivered)
	for _, ch := range []<-chan *schema.CanonicalEvent{gotA, gotB} {
		for len(ch) > 0 {
			ev := <-ch
			require.NotEqual(t, schema.EventGap, ev.Type, "no report was removed: %s", reasonOf(ev))
		}
	}
	ingest.close(t)
	a.close(t)
	b.close(t)
}
