package wsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// holdConn is a host's socket that, once armed, holds its next write of
// size bytes after writing it (the bytes are on the wire) until release
// is closed: the write the client sees succeed comes as late as the test
// says.
type holdConn struct {
	net.Conn
	armed   *atomic.Bool
	size    int
	held    chan struct{}
	release chan struct{}
}

func (c *holdConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err == nil && len(p) == c.size && c.armed.CompareAndSwap(true, false) {
		close(c.held)
		<-c.release
	}
	return n, err
}

// holdingClient is a host's HTTP client whose dial number nth holds, once
// armed, its next write of size bytes (holdConn).
func holdingClient(nth int32, size int, armed *atomic.Bool, held, release chan struct{}) *http.Client {
	var dials atomic.Int32
	d := &net.Dialer{}
	never := &atomic.Bool{}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if dials.Add(1) == nth {
				return &holdConn{Conn: c, armed: armed, size: size, held: held, release: release}, nil
			}
			return &holdConn{Conn: c, armed: never}, nil
		},
	}}
}

// subFrame is the size of a test subscription's frame from the client:
// a 2-byte header, the 4-byte mask and the payload.
var subFrame = 2 + 4 + len(testSubs[1])

// failedRotation matches the report of a failed rotation of connection
// id: Connected, ReasonRotation, the rotation's error, not a loss.
func failedRotation(id uint64) func(Event) bool {
	return func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.ConnID == id &&
			ev.Err != nil && !errors.Is(ev.Err, ErrRotationUnaligned) && !errors.Is(ev.Err, ErrRotationDropped)
	}
}

// announced reports whether connection id was ever announced Connected
// (a plain dial's or a rotation's switch).
func announced(h *harness, id uint64) bool {
	return h.rec.count(connected(id)) > 0
}

// joinedThenNewDies runs a rotation whose new connection (2) joins the
// old one's stream at its last frame while its second subscription waits
// for its paced turn, then dies as that subscription is written (the
// write held on the wire until connection 2 is dead: the dial succeeds,
// the connection already gone). With oldToo connection 1 dies first
// (after the join). It returns the harness, the venue and connection 1.
func joinedThenNewDies(t *testing.T, oldToo bool) (*harness, *venue, *conn) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	opts, fc := pacedRotationOptions()
	armed, held, release := &atomic.Bool{}, make(chan struct{}), make(chan struct{})
	opts.HTTPClient = holdingClient(2, subFrame, armed, held, release)
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.clock = fc
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("events: %v", h.rec.all())
		}
	})
	upPaced(t, h, v, subscribed)

	s1 := v.session(1)
	require.NoError(t, s1.send(s43u(1), s43u(2)))
	h.sink.waitFor(t, s43u(1), s43u(2))
	old := h.live()
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	s2 := v.session(2)
	require.Eventually(t, func() bool { return len(v.received(2)) == 1 && pacedWait(fc) }, wait, time.Millisecond,
		"connection 2's second subscription waiting for its turn")
	armed.Store(true) // that subscription's write is held once on the wire
	require.NoError(t, s1.send(s43u(3)))
	h.sink.waitFor(t, s43u(3))
	require.NoError(t, s2.send(s43u(3))) // the join at connection 1's last frame
	var nb *conn
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		if h.c.ov != nil && h.c.ov.done {
			nb = h.c.ov.nb
		}
		return nb != nil
	}, wait, time.Millisecond, "joined")
	if oldToo {
		require.NoError(t, s1.ws.CloseNow())
		recvWait(t, old.dead, "connection 1 dead")
	}
	h.advanceUntil(250*time.Millisecond, "the second subscription written", func() bool {
		select {
		case <-held:
			return true
		default:
			return false
		}
	})
	require.Eventually(t, func() bool { return len(v.received(2)) == len(testSubs) }, wait, time.Millisecond)
	require.NoError(t, s2.ws.CloseNow()) // connection 2 dies, its subscription written
	recvWait(t, nb.dead, "connection 2 dead")
	close(release) // the write returns: connection 2 subscribed, and dead
	return h, v, old
}

func s43u(k int) string { return fmt.Sprintf(`{"u":%d}`, k) }

// A rotation whose new connection joined the old stream and then died
// before the switch (its last subscription written as it died) failed:
// the old connection, alive, is kept, and the host hears the failure
// (ErrRotationUnaligned naming the old connection: its data from the join
// on were dropped, the new connection had them; then Connected naming
// the old connection with the rotation's error), never that the dead
// connection was live. Before s43ws the rotation switched to the dead
// connection (switchTo from the joined select, or abort seeing the
// streams joined): Connected on connection 2, then its Disconnected, the
// live connection 1 closed, and a redial after a backoff.
func TestS43wsNewDiesAfterJoinKeepsOld(t *testing.T) {
	h, v, old := joinedThenNewDies(t, false)
	failed := h.rec.waitFor(t, "the failed rotation", failedRotation(1))
	require.ErrorContains(t, failed.Err, "EOF", "connection 2's end")
	require.NoError(t, v.session(1).send(s43u(4)))
	h.sink.waitFor(t, s43u(4))
	require.Same(t, old, h.live(), "the old connection kept")
	require.False(t, announced(h, 2), "connection 2, dead, announced live: %v", h.rec.all())
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)), "events %v", h.rec.all())
	loss := lossEvents(h)
	require.Len(t, loss, 1, "the join-to-failure gap, once; events %v", h.rec.all())
	require.ErrorIs(t, loss[0].Err, ErrRotationUnaligned)
	require.Equal(t, uint64(1), loss[0].ConnID)
	require.Zero(t, h.c.Stats().Rotations)
	require.Zero(t, h.c.Stats().TotalReconnects())
	require.Equal(t, schema.ConnConnected, h.c.State())
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"order"}`)), "the kept connection takes writes")
	h.finish(v)
}

// The same with the old connection dead too, after the join: both are
// gone, the client redials. The loss reported is the old connection's,
// once (Disconnected naming connection 1: the live one), and connection
// 2 is never announced. Before s43ws the rotation switched to the dead
// connection 2 (Connected on it), whose death was then reported as the
// loss of the live connection: Disconnected naming connection 2, never
// connection 1, which the host had last heard was live.
func TestS43wsBothDieAfterJoinRedials(t *testing.T) {
	h, v, _ := joinedThenNewDies(t, true)
	h.advanceUntil(250*time.Millisecond, "reconnected", func() bool {
		st := h.c.Stats()
		return st.State == schema.ConnConnected && st.ConnID == 3
	})
	require.False(t, announced(h, 2), "connection 2, dead, announced live: %v", h.rec.all())
	loss := lossEvents(h)
	require.Len(t, loss, 1, "one loss, one report; events %v", h.rec.all())
	require.Equal(t, schema.ConnDisconnected, loss[0].State)
	require.Equal(t, uint64(1), loss[0].ConnID, "the live connection's loss")
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, uint64(1), re.ConnID)
	require.Zero(t, h.c.Stats().Rotations)
	h.finish(v)
}

// A rotation refused with 429 and Retry-After keeps the old connection
// and retries at the venue's time; the old connection lost meanwhile is
// redialled no sooner than that either: the venue's word was about this
// client's dials, whichever loop makes the next one. Before s43ws the
// redial after the loss waited only the backoff of its first attempt
// (BackoffBase: 10 ms here), and a venue that bans an IP ignoring its
// Retry-After (Binance: 418) was dialled 7 s early.
func TestS43wsRetryAfterOfFailedRotationKeptAfterLoss(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	p.answer = refuseDial(2, "429 Too Many Requests\r\nRetry-After: 7")
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	opts.BackoffBase = 10 * time.Millisecond
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	require.NoError(t, h.c.Rotate())
	failed := h.rec.waitFor(t, "rotation failed", failedRotation(1))
	var he *HandshakeError
	require.ErrorAs(t, failed.Err, &he)
	retry := h.clock.Now().Add(7 * time.Second)
	require.Eventually(t, func() bool { return h.clock.armedAt(retry) }, wait, time.Millisecond, "retry armed at Retry-After")

	_ = p.conn(1).c.Close() // connection 1 lost: no close frame
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.EqualValues(t, 1, re.ConnID, "the connection lost")
	require.GreaterOrEqual(t, re.Delay, 7*time.Second, "the redial keeps the venue's Retry-After; event %v", re)
	h.sink.waitFor(t, `{"conn":3}`) // the clock's sleeps move it: the redial's wait is its time
	h.rec.waitFor(t, "reconnected", connected(2))
	require.False(t, h.clock.Now().Before(retry), "dialled before the venue's Retry-After")
	h.finish(nil, p.close)
}

// A prepared rotation whose old connection is lost while Prepare runs,
// and whose new connection then dies too (Prepare fails: its ctx ended
// with the connection): both are gone, the client redials. The host hears
// the old connection's loss once, when it happens, then Reconnecting and
// the redial's Connected; connection 2 is never announced, nor a failed
// rotation naming a connection that is gone.
func TestS43wsPrepareBothDieRedials(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	go2 := make(chan struct{})
	h, v, closed := startPrivate(t, leaks, func(ctx context.Context, _ uint64, write func(context.Context, []byte) error, _ <-chan uint64) error {
		<-go2
		if err := write(ctx, []byte(`{"op":"bye"}`)); err != nil { // the venue closes connection 2
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return h.rec.count(isState(schema.ConnRotating)) == 1 }, wait, time.Millisecond)
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"bye"}`)))
	require.Equal(t, 1, recvWait(t, closed, "connection 1 closed by the venue"))
	h.rec.waitFor(t, "connection 1 lost while Prepare runs", func(ev Event) bool {
		return ev.State == schema.ConnDisconnected && ev.ConnID == 1
	})
	close(go2)
	require.Equal(t, 2, recvWait(t, closed, "connection 2 closed by the venue"))
	h.rec.waitFor(t, "redialled", connected(3))
	require.False(t, announced(h, 2), "connection 2, dead, announced live: %v", h.rec.all())
	require.Zero(t, h.rec.count(isRotationFailed), "a failed rotation of a lost connection: %v", h.rec.all())
	require.Equal(t, 1, h.rec.count(isState(schema.ConnDisconnected)), "one loss, one report: %v", h.rec.all())
	require.Zero(t, h.c.Stats().Rotations)
	h.finish(v)
}
