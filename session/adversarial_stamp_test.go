package session_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestAdvPlaceStampedAsWritten: a signed request's timestamp is taken
// when it is written, after the requests queued before it: a burst of
// concurrent Place calls reaches the venue with timestamps in the order
// the venue reads them. Binance measures recvWindow from the timestamp to
// its receipt (WS-API "Timing security"), so a request stamped and then
// left waiting behind others loses its window to the local queue (-1021
// on a loaded machine), and one stamped later than a request written
// after it shows the queue's reordering.
//
// The clock gives each reading its own millisecond (so two stamps never
// tie) and yields after it, widening the moment between a stamp and its
// write where another caller can pass.
func TestAdvPlaceStampedAsWritten(t *testing.T) {
	v := startVenue(t)
	var ticks atomic.Int64
	now := func() time.Time {
		t := time.Now().Add(time.Duration(ticks.Add(1)) * time.Millisecond)
		runtime.Gosched()
		return t
	}
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Now: now, RecvWindow: session.MaxRecvWindow})
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	const n = 16 // within the pool of order requests (schema.CapOrderRequest)
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		req := limitOrder(s, t, "ts-"+strconv.Itoa(i), "buy", "1000.00", "0.01")
		go func() {
			<-start
			_, err := s.Place(ctx, req)
			s.Pools().Orders.Put(req)
			errs <- err
		}()
	}
	close(start)
	for range n {
		require.NoError(t, <-errs)
	}
	ts := v.PlaceTimestamps()
	require.Len(t, ts, n)
	for i := 1; i < n; i++ {
		require.Greater(t, ts[i], ts[i-1], "order.place %d reached the venue stamped %d, before the one read ahead of it (%d): it was stamped, then queued", i, ts[i], ts[i-1])
	}
}

// TestAdvPlaceNotReadyEndedContextIsNotSent: Place's doc: "ctx's error
// (wrapped) … with ErrNotSent too when ctx had ended before the request
// was written". A call whose ctx ends while the order connection is not
// ready (here: reconnected, its user-data subscription held by the venue)
// never wrote anything, and says so — a host reading only ctx's error
// would have to treat the order as of unknown outcome.
func TestAdvPlaceNotReadyEndedContextIsNotSent(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial})
	waitConnected(t, s)
	v.HoldUserData(true)
	require.Equal(t, 1, v.CloseAPI())
	require.Eventually(t, func() bool { return v.HeldUserData() == 1 }, generous, pollEvery, "the new connection subscribes")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := limitOrder(s, t, "nr-1", "buy", "1000.00", "0.01")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, session.ErrNotSent, "nothing was written: %v", err)
	v.HoldUserData(false)
	waitConnected(t, s)
	require.Empty(t, v.PlaceTimestamps(), "no order.place reached the venue")
}

// TestAdvCloseWhileWaitingForConnection: a Place waiting for the order
// connection (reconnected, its user-data subscription held by the venue)
// when the host closes the session returns ErrClosed, with ErrNotSent
// (nothing was written), and leaks nothing (the leak check, goleak).
func TestAdvCloseWhileWaitingForConnection(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial})
	waitConnected(t, s)
	v.HoldUserData(true)
	require.Equal(t, 1, v.CloseAPI())
	require.Eventually(t, func() bool { return v.HeldUserData() == 1 }, generous, pollEvery, "the new connection subscribes")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "cw-1", "buy", "1000.00", "0.01")
	errs := make(chan error, 1)
	go func() {
		_, err := s.Place(ctx, req)
		errs <- err
	}()
	closed := make(chan error, 1)
	go func() { closed <- s.Close(ctx) }()
	err := <-errs
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, session.ErrClosed)
	require.ErrorIs(t, err, session.ErrNotSent)
	require.NoError(t, <-closed)
	v.HoldUserData(false)
	assert.Empty(t, v.PlaceTimestamps(), "no order.place reached the venue")
}
