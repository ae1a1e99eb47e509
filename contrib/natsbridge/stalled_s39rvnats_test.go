package natsbridge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS39rvnatsStalledTold: an operator lowers the durable consumer's
// MaxRequestExpires under nats.go's least pull expiry (1 s) under a
// running Consumer. Its next pull is refused (409 "Exceeded
// MaxRequestExpires"); a Consume within the new limit cannot be made
// (nats.go: ErrInvalidOption), and every try failed alike until an
// operator acted: the reports stopped, told only at Warn in the log,
// the host trading on orders whose fills it never heard of. The host is
// told, once the tries have failed for stalledAfter: a gap marker about
// the venue's execution reports (GapCount 0: they wait in the stream).
// Once the operator raises the limit the reports come.
func TestS39rvnatsStalledTold(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 1)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	nc := connect(t, srv.ClientURL(), nil)
	cons, err := NewConsumer(waitCtx(t), nc, far.d, far.pools.Events, &ConsumerOptions{Durable: "s39rvstall", AckWait: time.Hour})
	require.NoError(t, err)
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())

	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s39rvstall")
	require.NoError(t, err)
	cfg := jc.CachedInfo().Config
	cfg.MaxRequestExpires = 500 * time.Millisecond
	_, err = js.UpdateConsumer(waitCtx(t), DefaultStream, cfg)
	require.NoError(t, err)
	require.NoError(t, nc.ForceReconnect()) // the next pull asks for 10 s
	// No pull made before the update waits (one that outlived the
	// reconnection, or expired), and none made since is taken.
	eventually(t, func() bool {
		jc, err := js.Consumer(waitCtx(t), DefaultStream, "s39rvstall")
		return err == nil && jc.CachedInfo().NumWaiting == 0
	}, "the pulls of before the update gone")
	ingest.publish(t, execReport(1))

	var g *schema.CanonicalEvent
	select { // stalledAfter (20 s) of failed tries first: a 60 s guard
	case g = <-got:
	case <-time.After(2 * generous):
		t.Fatal("the host was never told that its execution reports stopped")
	}
	require.Equal(t, schema.EventGap, g.Type, "report %s delivered within a limit nats.go cannot meet", g.Exec)
	require.Equal(t, schema.EventExecReport, g.Control.GapType)
	require.Equal(t, schema.VenueBinance, g.Venue)
	require.Zero(t, g.Control.GapCount, "the reports wait in the stream: none lost")

	cfg.MaxRequestExpires = 0
	_, err = js.UpdateConsumer(waitCtx(t), DefaultStream, cfg)
	require.NoError(t, err)
	require.Equal(t, "1001", next(t, got, anyEvent).Exec.TradeID.String())

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}
