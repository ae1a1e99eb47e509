package natsbridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS36natsPurgedReportsAnnounced: reports waiting in the stream for a
// Consumer behind (its host's event pool exhausted) are removed before it
// reads them — an operator's purge here; a stream's limits (MaxAge,
// MaxMsgs with discard old) remove them alike, and the durable consumer
// skips what is gone (JetStream consumers start past a purge) without a
// word. The reports were lost unannounced: the host waited for fills
// that never came. Each delivery tells how many of the durable consumer's
// messages were pending after it (NumPending); fewer pending at the next
// one than that, less the one delivered, were removed: announced by a
// gap marker about the venue's execution reports, counted in ExecLost.
func TestS36natsPurgedReportsAnnounced(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 4)
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)

	// Report 0 is in onExec's hands, waiting for an event; 1 to 3 wait in
	// the stream.
	far, got, cons := reportInHand(t, srv.ClientURL(), nil, ConsumerOptions{Durable: "s36purge"})
	require.NoError(t, st.Purge(waitCtx(t), jetstream.WithPurgeSequence(4)), "reports 0 to 2 purged")
	far.release()

	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type, "reports 1 and 2 announced lost: %v %v", g.Type, g.Exec)
	require.Equal(t, schema.EventExecReport, g.Control.GapType)
	require.Equal(t, schema.VenueBinance, g.Venue)
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, schema.GapRelay, g.Control.GapSource)
	require.Equal(t, "1003", next(t, got, anyEvent).Exec.TradeID.String())

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Equal(t, uint64(2), stats.ExecDelivered, "%+v", stats)
	require.Equal(t, uint64(2), stats.ExecLost, "%+v", stats)
	require.Zero(t, stats.AckErrors, "%+v", stats)
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// TestS36natsAgedOutWhileDownAnnounced: reports published while the
// node's Consumer is down stay in the stream longer than its MaxAge (24 h
// by default; 8 s here: a report delivered within it) and are removed. The durable consumer starts past
// them without a word: lost unannounced. A Consumer that reads the whole
// stream (its own stream, every durable subject) and finds its first
// message past the last the durable consumer delivered announces those
// between, before the next report. (A purge moves the durable consumer
// past what it removes: not seen at start.)
func TestS36natsAgedOutWhileDownAnnounced(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pnc := connect(t, srv.ClientURL(), nil)
	so := StreamOptions{MaxAge: 8 * time.Second, DuplicateWindow: time.Second}
	pub, err := NewPublisher(waitCtx(t), pnc, ingest.d, &PublisherOptions{Stream: so})
	require.NoError(t, err)
	js, err := jetstream.New(pnc)
	require.NoError(t, err)
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)

	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	opts := &ConsumerOptions{Durable: "s36down", AckWait: generous, Stream: so}
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, opts)
	require.NoError(t, err)
	ingest.publish(t, execReport(0))
	ingest.publish(t, execReport(1))
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	require.Equal(t, "1001", next(t, got, anyEvent).Exec.TradeID.String())
	require.NoError(t, cons.Close(closeCtx(t)))

	// Down: reports 2 and 3 are published and age out.
	ingest.publish(t, execReport(2))
	ingest.publish(t, execReport(3))
	eventually(t, func() bool {
		info, err := st.Info(waitCtx(t))
		return err == nil && info.State.LastSeq == 4 && info.State.Msgs == 0
	}, "reports 2 and 3 stored and aged out")

	cons, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, opts)
	require.NoError(t, err)
	ingest.publish(t, execReport(4))
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type, "reports 2 and 3 announced lost: %v %v", g.Type, g.Exec)
	require.Equal(t, schema.EventExecReport, g.Control.GapType)
	require.Equal(t, schema.VenueBinance, g.Venue)
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, "1004", next(t, got, anyEvent).Exec.TradeID.String())

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Equal(t, uint64(1), stats.ExecDelivered, "%+v", stats)
	require.Equal(t, uint64(2), stats.ExecLost, "%+v", stats)
	ingest.close(t)
	far.close(t)
}
