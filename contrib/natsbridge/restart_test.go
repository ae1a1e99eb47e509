package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestServerRestart restarts the NATS server (same JetStream store; the
// clients keep their URL and reach the new server through a Dialer, so no
// port has to be reused) in the middle of a stream: the outage is visible as state changes,
// on the callback and as EventConnState events in the consumer's dispatcher;
// the publisher never blocks and counts what NATS refused; an execution
// report sent during the outage is stored after it; trades flow again and
// the ones lost are reported by a gap marker.
func TestServerRestart(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	var dialer embedded.Dialer
	dialer.Follow(srv)
	small := &ConnectOptions{ReconnectBuf: 4 << 10, Extra: []nats.Option{nats.SetCustomDialer(&dialer)}}
	pubStates := make(chan StateEvent, 64)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), small), ingest.d,
		&PublisherOptions{OnState: func(e StateEvent) { pubStates <- e }, Lanes: dispatch.SubscribeOptions{OrderedBound: 1 << 16}})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	stateEvents := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventConnState}})
	consStates := make(chan StateEvent, 64)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), small), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "restart", OnState: func(e StateEvent) { consStates <- e }})
	require.NoError(t, err)

	seq := uint64(0)
	trade := func(ev *schema.CanonicalEvent) {
		seq++
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, seq
	}
	ingest.publish(t, trade)
	next(t, got, ofType(schema.EventTrade))

	// The server goes away.
	srv.Stop()
	awaitState(t, consStates, schema.ConnDisconnected)
	awaitState(t, consStates, schema.ConnReconnecting)
	awaitState(t, pubStates, schema.ConnReconnecting)
	// Far more than the 4 KiB reconnect buffer: the handler must not block,
	// and what does not fit is counted.
	const outage = 2000
	for range outage {
		ingest.publish(t, trade)
	}
	ingest.publish(t, execReport(1))
	eventually(t, func() bool { return pub.Stats().Lane.Delivered == outage+2 }, "the publisher handled everything during the outage")
	st := pub.Stats()
	assert.Positive(t, st.Dropped, "the reconnect buffer is bounded")
	assert.Equal(t, 1, st.ExecPending, "the execution report waits for the stream")

	// It comes back with the same store.
	srv2, err := srv.Restart()
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)
	dialer.Follow(srv2)
	awaitState(t, consStates, schema.ConnConnected)
	awaitState(t, pubStates, schema.ConnConnected)
	eventually(t, func() bool { return pub.Stats().ExecStored == 1 }, "the execution report is stored after the outage")
	ev := next(t, got, ofType(schema.EventExecReport))
	assert.Equal(t, "1001", ev.Exec.TradeID.String())

	// Trades flow again; the loss shows as a gap marker before them.
	var lost uint64
	for {
		ingest.publish(t, trade)
		ev := next(t, got, func(ev *schema.CanonicalEvent) bool {
			return ev.Type == schema.EventTrade || ev.Type == schema.EventGap
		})
		if ev.Type == schema.EventGap {
			lost += ev.Control.GapCount
		}
		if ev.Type == schema.EventTrade && ev.SeqProvider > outage+1 {
			break
		}
	}
	assert.Positive(t, lost, "trades lost in the outage are reported")

	// The consumer's dispatcher saw the outage as its subscribers see a
	// venue connection's.
	var states []schema.ConnState
	for range 4 {
		ev := next(t, stateEvents, ofType(schema.EventConnState))
		assert.Equal(t, DefaultStateVenue, ev.Venue)
		states = append(states, ev.Control.State)
	}
	assert.Equal(t, []schema.ConnState{schema.ConnConnected, schema.ConnDisconnected, schema.ConnReconnecting, schema.ConnConnected}, states)
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
	t.Logf("publisher %+v", pub.Stats())
	t.Logf("consumer %+v", cons.Stats())
}

// awaitState waits for st on ch, skipping others.
func awaitState(t *testing.T, ch <-chan StateEvent, st schema.ConnState) {
	t.Helper()
	for {
		select {
		case e := <-ch:
			if e.State == st {
				return
			}
		case <-closeCtx(t).Done():
			t.Fatalf("no %s state", st)
		}
	}
}
