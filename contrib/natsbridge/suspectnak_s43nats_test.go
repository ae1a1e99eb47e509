package natsbridge

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// TestS43natsSuspectHandBacksSpaced: a delivery suspected to come from a
// durable consumer made again by another (consumerRemade) is handed back
// until the resumer has looked; handed back with a plain Nak, the server
// delivered it again at once, suspected again — a loop at network speed
// for as long as the resumer's tries failed. Here they fail (the
// Consumer's link is silent, as TestS41natsSuspectHandedBackUntilLooked
// has it), and deliveries by an operator's consumer of the same stream
// (DeliverAll, through the test's connection) come in: each hand-back
// asks the server to wait twice as long as the one before, from the
// resumer's backoff base to its cap, and the redelivery of the first,
// once the server sent it again, waits the cap. What the server was asked
// is read off the wire (the acks' subject), and the redelivery counted:
// the server delivered the first report twice, once per hand-back — not
// at once again and again.
func TestS43natsSuspectHandBacksSpaced(t *testing.T) {
	const n = 8 // reports: the first 7 delivered to the operator's consumer, Dedup holding the last's id only
	srv, ingest, pub, js := storedReports(t, n)
	proxy := newStall(t, srv.Addr().String(), nil)
	far, cons := handledAll(t, proxy.url(), "s43spaced", 1, n)

	naks := make(chan *nats.Msg, 64)
	sub, err := js.Conn().ChanSubscribe("$JS.ACK.>", naks)
	require.NoError(t, err)
	require.NoError(t, js.Conn().Flush())
	t.Cleanup(func() { _ = sub.Unsubscribe() })

	op, err := js.CreateOrUpdateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: "s43spacedop",
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: n - 1, AckWait: time.Hour}) // report 7 never delivered to it
	require.NoError(t, err)
	batch, err := op.Fetch(n-1, jetstream.FetchMaxWait(generous))
	require.NoError(t, err)
	var firsts []jetstream.Msg
	for m := range batch.Messages() {
		firsts = append(firsts, m)
	}
	require.NoError(t, batch.Error())
	require.Len(t, firsts, n-1)

	proxy.stalled.Store(true) // the resumer's look goes unanswered
	gen := currentGen(cons)
	want := []time.Duration{50, 100, 200, 400, 800, 1600, 2000}
	for i, m := range firsts {
		cons.onExec(m, gen)
		require.Equal(t, want[i]*time.Millisecond, nakDelay(t, naks), "hand-back %d of report %d", i+1, i)
	}
	// Report 0 comes again once its delay has passed (or, the machine
	// slow, one handed back after it): handed back again, waiting the cap.
	batch, err = op.Fetch(1, jetstream.FetchMaxWait(generous))
	require.NoError(t, err)
	var again []jetstream.Msg
	for m := range batch.Messages() {
		again = append(again, m)
	}
	require.NoError(t, batch.Error())
	require.Len(t, again, 1)
	meta, err := again[0].Metadata()
	require.NoError(t, err)
	require.Equal(t, uint64(2), meta.NumDelivered, "report %d delivered again once after its hand-back", meta.Sequence.Stream-1)
	cons.onExec(again[0], gen)
	require.Equal(t, resumeBackoffCap, nakDelay(t, naks), "report %d's second hand-back", meta.Sequence.Stream-1)
	require.Equal(t, uint64(n), cons.Stats().ExecDelivered, "nothing handed on while suspected")

	t.Logf("Close over the dead link: %v", closeWithin(t, cons, 100*time.Millisecond))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// TestS43natsSuspectDelayStartsAgain: the delays double while the
// suspicion is unanswered, are capped, and start at the base again once
// the resumer has looked.
func TestS43natsSuspectDelayStartsAgain(t *testing.T) {
	for n, want := range []time.Duration{50, 100, 200, 400, 800, 1600, 2000, 2000} {
		require.Equal(t, want*time.Millisecond, suspectDelay(n), "after %d", n)
	}
	require.Equal(t, resumeBackoffCap, suspectDelay(1<<20))
}

// nakDelay reads the next Nak on the acks' subject from naks and returns
// the delay it asks the server for (0: none).
func nakDelay(t *testing.T, naks <-chan *nats.Msg) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	for {
		select {
		case m := <-naks:
			body := string(m.Data)
			if len(body) < 4 || body[:4] != "-NAK" {
				continue // an ack of the test's own
			}
			const key = `{"delay": `
			i := len("-NAK ")
			if len(body) <= i+len(key) || body[i:i+len(key)] != key {
				return 0
			}
			ns, err := strconv.ParseInt(body[i+len(key):len(body)-1], 10, 64)
			require.NoError(t, err, body)
			return time.Duration(ns)
		case <-ctx.Done():
			t.Fatal("no Nak seen")
			return 0
		}
	}
}
