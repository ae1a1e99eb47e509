package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS37natsPublishedAndRemovedBetweenDeliveriesAnnounced: report 0 is
// in the Consumer's hands (its host's event pool exhausted) with nothing
// pending after it; reports 1 and 2 are published and removed (a purge
// here; MaxAge or MaxMsgs with discard old alike) before the Consumer
// reads on. NumPending never counted them: they were lost unannounced.
// A Consumer reading the whole stream knows every stream sequence is one
// of its durable consumer's: those passed between two deliveries and
// not delivered meanwhile (the consumer sequence counts every delivery)
// were removed.
func TestS37natsPublishedAndRemovedBetweenDeliveriesAnnounced(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 1)
	st, err := js.Stream(waitCtx(t), DefaultStream)
	require.NoError(t, err)
	// Report 0 in hand, nothing pending after it.
	far, got, cons := reportInHand(t, srv.ClientURL(), nil, ConsumerOptions{Durable: "s37between"})
	storeReports(t, js, ingest, 1, 4)
	require.NoError(t, st.Purge(waitCtx(t), jetstream.WithPurgeSequence(4)), "reports 1 and 2 purged")
	far.release()

	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type, "reports 1 and 2 announced lost: %v %v", g.Type, g.Exec)
	require.Equal(t, schema.EventExecReport, g.Control.GapType)
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, "1003", next(t, got, anyEvent).Exec.TradeID.String())

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Equal(t, uint64(2), stats.ExecDelivered, "%+v", stats)
	require.Equal(t, uint64(2), stats.ExecLost, "%+v", stats)
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// TestS37natsLostWithMemoryStreamAnnounced: a memory stream is lost with
// its server's restart (an operator's deletion of the stream alike) while
// reports wait in it for the Consumer (its host's event pool exhausted,
// report 0 in hand): the Consumer makes its durable consumer again on
// the new stream, and reports 1 and 2 — pending, as report 0's delivery
// said (NumPending), lost with the old stream — were lost unannounced.
func TestS37natsLostWithMemoryStreamAnnounced(t *testing.T) {
	srv := startServer(t)
	var dialer embedded.Dialer
	dialer.Follow(srv)
	via := &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(&dialer)}}
	stream := StreamOptions{Memory: true}
	ingest := newNode(t)
	pnc := connect(t, srv.ClientURL(), via)
	pub, err := NewPublisher(waitCtx(t), pnc, ingest.d, &PublisherOptions{Stream: stream})
	require.NoError(t, err)
	js, err := jetstream.New(pnc)
	require.NoError(t, err)
	storeReports(t, js, ingest, 0, 3)

	// Report 0 in hand, 1 and 2 pending.
	far, got, cons := reportInHand(t, srv.ClientURL(), via, ConsumerOptions{Durable: "s37mem", Stream: stream})

	srv2, err := srv.Restart()
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)
	dialer.Follow(srv2)
	far.release()
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	eventually(t, func() bool { return cons.Stats().ExecResumed > 0 }, "the durable consumer made again on the new stream")
	ingest.publish(t, execReport(3))
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type, "reports 1 and 2 announced lost: %v %v", g.Type, g.Exec)
	require.Equal(t, schema.EventExecReport, g.Control.GapType)
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, "1003", next(t, got, anyEvent).Exec.TradeID.String())

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Equal(t, uint64(2), stats.ExecDelivered, "%+v", stats)
	require.Equal(t, uint64(2), stats.ExecLost, "%+v", stats)
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}

// TestS37natsStreamOfOtherSubjectsNoFalseLoss: an operator's stream
// captures more than the durable subjects ("meltica.>": market data
// too), and the Consumer, which could not make it its own (another
// storage), reads it as an operator's (see ensureExecStream). Its stream
// sequences are not all the durable consumer's: told by them, a trade
// stored between two reports read as a report removed.
func TestS37natsStreamOfOtherSubjectsNoFalseLoss(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pnc := connect(t, srv.ClientURL(), nil)
	js, err := jetstream.New(pnc)
	require.NoError(t, err)
	_, err = js.CreateStream(waitCtx(t), jetstream.StreamConfig{Name: DefaultStream, Subjects: []string{DefaultPrefix + ".>"}, Storage: jetstream.MemoryStorage})
	require.NoError(t, err)
	pub, err := NewPublisher(waitCtx(t), pnc, ingest.d, &PublisherOptions{Stream: StreamOptions{NoCreate: true}})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	var subjects []string
	for _, typ := range durableTypes {
		subjects = append(subjects, DefaultPrefix+".*.*."+typ.String())
	}
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s37other", AckWait: generous, Subjects: subjects})
	require.NoError(t, err)
	storeReports(t, js, ingest, 0, 1)
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())
	_, err = js.Publish(waitCtx(t), DefaultPrefix+".binance.BTC-USDT.trade", []byte("a trade"))
	require.NoError(t, err)
	storeReports(t, js, ingest, 1, 3)
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventExecReport, ev.Type, "nothing was removed: %s", reasonOf(ev))
	require.Equal(t, "1001", ev.Exec.TradeID.String())

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	stats := cons.Stats()
	require.Zero(t, stats.ExecLost, "%+v", stats)
	ingest.close(t)
	far.close(t)
}
