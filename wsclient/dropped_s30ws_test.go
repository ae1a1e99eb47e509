package wsclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// bybitTickers are a Bybit linear tickers subscription's frames from the
// repository's testdata (real venue messages, testdata/venues/SOURCES.md):
// a connection gets one "snapshot" when it subscribes, then "delta"
// frames that every connection gets alike, byte for byte (Bybit v5
// "Ticker": derivatives push a snapshot, then deltas; spot pushes a
// snapshot every time).
type bybitTickers struct{ snap, delta string }

func loadBybitTickers(t *testing.T) bybitTickers {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "venues", name))
		require.NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	return bybitTickers{read("bybit_v5_tickers_linear_snapshot.json"), read("bybit_v5_tickers_linear_delta.json")}
}

// snapshotAt is connection n's snapshot: the ticker at the instant it
// subscribed (its "ts").
func (b bybitTickers) snapshotAt(n int) string {
	return strings.Replace(b.snap, `"ts":`, fmt.Sprintf(`"ts":%d`, n), 1)
}

// deltaAt is delta k, the same bytes on every connection.
func (b bybitTickers) deltaAt(k int) string {
	return strings.Replace(b.delta, `"ts":`, fmt.Sprintf(`"ts":%d`, k), 1)
}

// A healthy rotation of a Bybit linear tickers stream with the real
// parser's AlignKey must not report ErrRotationDropped: the new
// connection's snapshot comes before the join, and the old connection
// delivered its content as deltas. normalize keys linear tickers'
// snapshot (normalize/align.go bybitAlignKey: only "orderbook." snapshots
// are nil, for spot tickers say "snapshot" on every push), so every
// healthy rotation of linear tickers is reported as a possible gap. The
// fault is normalize's: wsclient's contract (ErrRotationDropped, "An
// AlignKey that is nil for the venue's subscription snapshots leaves
// only the second kind") asks for no key on a subscription's snapshot;
// wsclient cannot tell a snapshot from a missed message by its bytes.
// TestS30BybitLinearTickersRotationNoDropAlarm fails now (1 frame
// reported dropped); skipped until normalize gives the linear snapshot
// no key. TestS30BybitLinearSnapshotWithoutKeyNoDropAlarm shows the key
// that fixes it.
func TestS30BybitLinearTickersRotationNoDropAlarm(t *testing.T) {
	events := pool.New("s30ws.events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	p := normalize.NewBybit(events, normalize.SinkFunc(nil), nil)
	rotateBybitTickers(t, p.AlignKey)
	require.NoError(t, events.Shutdown(context.Background()))
}

// With no key for the linear snapshot (the parser's otherwise), the same
// rotation joins at the first delta both connections got, drops the
// snapshot and reports nothing.
func TestS30BybitLinearSnapshotWithoutKeyNoDropAlarm(t *testing.T) {
	events := pool.New("s30ws.events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	p := normalize.NewBybit(events, normalize.SinkFunc(nil), nil)
	rotateBybitTickers(t, func(b []byte) []byte {
		if strings.Contains(string(b), `"type":"snapshot"`) && strings.Contains(string(b), `"tickers.`) {
			return nil
		}
		return p.AlignKey(b)
	})
	require.NoError(t, events.Shutdown(context.Background()))
}

// rotateBybitTickers rotates a client of a Bybit linear tickers stream
// whose AlignKey is key (see rotateWithSnapshot).
func rotateBybitTickers(t *testing.T, key func([]byte) []byte) {
	b := loadBybitTickers(t)
	ack := func(n int) string {
		return fmt.Sprintf(`{"success":true,"ret_msg":"","conn_id":"c%d","req_id":"","op":"subscribe"}`, n)
	}
	rotateWithSnapshot(t, schema.VenueBybit, key, ack, b.snapshotAt, b.deltaAt)
}

// rotateWithSnapshot rotates a client of venue whose AlignKey is key, on
// a stream where connection n gets ack(n) and its own snapshotAt(n) when
// it subscribes, then updateAt(k) alike on every connection, and checks
// that the rotation reported nothing and dropped the new connection's
// snapshot: the join comes at update 4, connection 2 ahead (its queue the
// snapshot, 4, 5, 6).
func rotateWithSnapshot(t *testing.T, venue schema.Venue, key func([]byte) []byte, ack, snapshotAt, updateAt func(int) string) {
	leaks := goleak.IgnoreCurrent()
	subscribed := make(chan int, 4)
	v := newVenue(t, func(s *session) {
		if s.send(ack(s.n), snapshotAt(s.n)) != nil {
			return
		}
		subscribed <- s.n
		s.readForever()
		<-s.ctx.Done()
	})
	opts := rotationOptions()
	opts.Venue = venue
	opts.AlignKey = key
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 subscribed"))
	s1 := v.session(1)
	for k := 1; k <= 3; k++ {
		require.NoError(t, s1.send(updateAt(k)))
	}
	h.sink.waitFor(t, snapshotAt(1), updateAt(3))
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 subscribed"))
	s2 := v.session(2)
	for k := 4; k <= 6; k++ {
		require.NoError(t, s2.send(updateAt(k)))
	}
	require.NoError(t, s1.send(updateAt(4))) // the join at 4 (connection 1 is retired then: nothing more to it)
	h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 2 })
	require.NoError(t, s2.send(updateAt(7)))
	h.sink.waitFor(t, updateAt(7))
	require.Zero(t, h.rec.count(func(ev Event) bool { return errors.Is(ev.Err, ErrRotationDropped) }), "a false alarm: the snapshot's content was delivered as updates")
	st := h.c.Stats()
	require.Zero(t, st.RotationDropped)
	require.Zero(t, st.Unaligned)
	require.NotContains(t, h.sink.got(), snapshotAt(2), "the stale snapshot is not delivered")
	h.finish(v)
}
