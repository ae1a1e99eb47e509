package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// Review s24rv: two passes of reconciliation giving up on the same order
// make two gap markers alike but for when they were made (session's
// reconciler.gap: IngestTS time.Now(), the same ids, code and reason when
// the venue answers alike). They are two losses — "the order stays
// tracked: the next reconnect tries again" (session/reconcile.go), each
// about the reports of its own window — so neither may be taken for a
// duplicate of the other: not by the stream's duplicate window
// (Nats-Msg-Id, 2 min by default), not by the Consumer's Dedup. A host
// that dealt with the first would otherwise never hear of the second.
func TestS24rvExecGapMarkersOfTwoPassesBothArrive(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &ConsumerOptions{Durable: "rv"})
	require.NoError(t, err)
	marker := func(at int64) func(ev *schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventGap
			ev.IngestTS = at
			ev.UseExec().VenueOrderID = schema.MustID("778899")
			*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, GapSource: schema.GapVenue,
				Code: -1007, Reason: "reconcile: order 778899: timeout waiting for response"}
		}
	}
	ingest.publish(t, marker(1_700_000_000_000_000_000))
	ingest.publish(t, execReport(0))
	ingest.publish(t, marker(1_700_000_030_000_000_000)) // the next reconnect's pass, 30 s on
	ingest.publish(t, execReport(1))
	for i, want := range []schema.EventType{schema.EventGap, schema.EventExecReport, schema.EventGap, schema.EventExecReport} {
		ev := next(t, got, anyEvent)
		require.Equal(t, want, ev.Type, "event %d: the second pass's marker was taken for a duplicate", i)
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	assert.Equal(t, uint64(0), pub.Stats().ExecDuplicates)
	assert.Equal(t, uint64(0), cons.Stats().ExecDuplicate)
	ingest.close(t)
	far.close(t)
}
