package natsbridge

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// holeDialer dials addr; while hole is set, what its last connection is
// given to write is swallowed (counted in swallowed): bytes a dying link
// took and never delivered, as the kernel's send buffer of a connection
// that drops. kill closes the last connection.
type holeDialer struct {
	addr      string
	hole      atomic.Bool
	swallowed atomic.Int64
	mu        sync.Mutex
	last      net.Conn
}

type holeConn struct {
	net.Conn
	d *holeDialer
}

func (c holeConn) Write(p []byte) (int, error) {
	if c.d.hole.Load() {
		c.d.swallowed.Add(int64(len(p)))
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (d *holeDialer) Dial(network, _ string) (net.Conn, error) {
	c, err := net.DialTimeout(network, d.addr, generous)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = c
	return holeConn{c, d}, nil
}

func (d *holeDialer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hole.Store(false) // the next connection delivers
	_ = d.last.Close()
}

// TestS33natsQuoteLostInDyingLinkAnnounced: a Publisher whose NATS link
// drops loses what the link took and did not deliver — nats.go had
// accepted the quote (Publish returned nil), so it was not among the
// quotes "NATS refused" that the Publisher tells consumers of once its
// link is back. The Consumer's own link stayed up: it told nothing
// either, and its subscribers kept the last quote that arrived, stale,
// with no sign — for as long as the stream stays quiet. Once the
// Publisher is back, the consumer's subscribers of the venue must hear
// that its quotes may be stale.
func TestS33natsQuoteLostInDyingLinkAnnounced(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	u := srv.ClientURL()
	d := &holeDialer{addr: u[len("nats://"):]}
	states := make(chan StateEvent, 64)
	pub, err := NewPublisher(waitCtx(t), connect(t, u, &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}}), ingest.d,
		&PublisherOptions{OnState: func(e StateEvent) { states <- e }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, u, nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	quote := func(last int64) func(*schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTicker
			ev.UseTicker().Last = schema.NewDecimal(last, 0)
		}
	}
	ingest.publish(t, quote(100))
	require.Equal(t, "100", next(t, got, anyEvent).Ticker.Last.String())
	d.hole.Store(true)
	ingest.publish(t, quote(101)) // taken by the dying link, never delivered
	eventually(t, func() bool { return d.swallowed.Load() > 0 }, "the quote never written")
	d.kill()
	awaitState(t, states, schema.ConnDisconnected)
	awaitState(t, states, schema.ConnConnected)
	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type, "%+v", g)
	require.Equal(t, schema.VenueBinance, g.Venue)
	require.Zero(t, pub.Stats().Dropped, "NATS refused nothing: %+v", pub.Stats())
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}
