package natsbridge

// Review s24: what the Publisher keeps per stream is bounded, as the
// Consumer's is (bound_s23_test.go): an ingest node follows venues whose
// symbols come and go without end (options and dated futures expire by
// the thousand), and it kept a subject and a sequence for every stream it
// ever bridged.

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// streamsKept is how many streams the Publisher keeps a sequence for.
// Read it once Stats().Published says its handler is done.
func (p *Publisher) streamsKept() int { return p.streams.len() }

func TestS24PublisherStreamStateBoundedByDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("bridges 70k streams")
	}
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	const n = DefaultMaxStreams + 4096
	for i := range n {
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueOKX, "OPT-"+strconv.Itoa(i), schema.EventTrade, 1
		})
		if i%1024 == 0 { // the publisher's lane must not drop: every stream reaches it
			eventually(t, func() bool { return pub.Stats().Published == uint64(i+1) }, "bridged")
		}
	}
	eventually(t, func() bool { return pub.Stats().Published == n }, "bridged")
	assert.LessOrEqual(t, pub.streamsKept(), DefaultMaxStreams, "a sequence kept for every stream ever bridged")
	assert.Equal(t, uint64(n-DefaultMaxStreams), pub.Stats().Evicted)
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
}

// A stream the Publisher forgot starts over from 1 when it comes back, as
// after a Publisher restart: the Consumer takes it as a new run, without a
// gap marker, and a busy stream is never the one forgotten, so its losses
// are still counted exactly.
func TestS24PublisherForgetsQuietStreamsOnly(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	const bound = 8
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, &PublisherOptions{MaxStreams: bound})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)

	trade := func(sym string, seq uint64) {
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, sym, schema.EventTrade, seq
		})
	}
	const cold = 50
	sent := 0
	for round := range 3 {
		for i := range cold {
			trade("COLD"+strconv.Itoa(i), uint64(round+1))
			trade("HOT", uint64(round*cold+i+1))
			sent += 2
		}
	}
	for range sent {
		ev := next(t, got, func(*schema.CanonicalEvent) bool { return true })
		require.NotEqual(t, schema.EventGap, ev.Type, "a forgotten stream that came back was taken for a loss: %+v", ev.Control)
	}
	assert.LessOrEqual(t, pub.streamsKept(), bound)
	assert.Positive(t, pub.Stats().Evicted)
	assert.Zero(t, cons.Stats().Gaps)
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// Publisher.Close before the dispatcher's (the order the doc advises
// against, but a host may): execution reports still in the Publisher's
// lane of the dispatcher must not vanish uncounted. The package's promise
// is that a report is lost only if the process ends with it queued, and
// then Publisher.Close says how many. Here the handler is held inside
// OnExecBacklog (reports 0 and 1 wait in the Publisher's queue on a closed
// connection) while report 2 waits in the lane; Close, whose ctx ends
// before the handler is let go, must count all three.
func TestS24PublisherCloseCountsReportsInItsLane(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	nc := connect(t, srv.ClientURL(), nil)
	held, release := make(chan struct{}), make(chan struct{})
	pub, err := NewPublisher(waitCtx(t), nc, ingest.d, &PublisherOptions{ExecBound: 1, OnExecBacklog: func(int) {
		close(held)
		<-release
	}})
	require.NoError(t, err)
	nc.Close() // nothing is stored from now on
	ingest.publish(t, execReport(0))
	ingest.publish(t, execReport(1)) // over ExecBound: the handler is held
	<-held
	ingest.publish(t, execReport(2)) // waits in the lane
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = pub.Close(ctx)
	close(release)
	require.ErrorIs(t, err, ErrExecPending)
	assert.Contains(t, err.Error(), ": 3:", "reports lost uncounted: %v", err)
	ingest.close(t)
}
