package venuesim

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s35simOneConn is the venue's only connection, once it is registered.
func s35simOneConn(t *testing.T, v *Venue) *conn {
	t.Helper()
	var c *conn
	require.Eventually(t, func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		for k := range v.conns {
			c = k
		}
		return len(v.conns) == 1 && c.upgradedWS() != nil
	}, time.Minute, time.Millisecond)
	return c
}

// A kline tick held the market lock through its broadcasts: while one
// connection held up the hand-out (here its subscription lock, taken by
// the test, as a connection busy under it), every order, query,
// subscription and REST snapshot of the market waited with it — the
// trades and partial books are handed out after the lock, the candles
// were not. Now a REST depth snapshot is answered while the candle's
// broadcast waits on that connection.
func TestS35simKlineBroadcastOutsideMarketLock(t *testing.T) {
	v := s34rvsimStoppedVenue(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // failure guard only
	defer cancel()
	ws, _, err := websocket.Dial(ctx, v.StreamURL("s0usdt@kline_1m"), nil)
	require.NoError(t, err)
	defer func() { _ = ws.CloseNow() }()
	slow := s35simOneConn(t, v)
	ms := v.now().UnixMilli()
	m := v.mkt
	m.mu.Lock()
	s := m.symbols[0]
	require.Len(t, s.series, 1, "the stream is listened to")
	s.day.add(ms, s.bestBid, one, 1) // a price to open the candle at
	m.mu.Unlock()
	v.klineTick(nil, ms, true, true) // opens the candle, sends nothing

	slow.mu.Lock() // the connection holds up the hand-out
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		v.klineTick(nil, ms, true, true)
	}()
	// The tick is handing out: it holds the connection set.
	require.Eventually(t, func() bool {
		if v.mu.TryLock() {
			v.mu.Unlock()
			return false
		}
		return true
	}, time.Minute, time.Millisecond, "the tick never began its broadcast")

	answered := make(chan int, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.RESTURL()+"/api/v3/depth?symbol=S0USDT&limit=5", nil)
		if err != nil {
			answered <- -1
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		answered <- resp.StatusCode
	}()
	got := false
	select {
	case code := <-answered:
		got = true
		assert.Equal(t, http.StatusOK, code)
	case <-time.After(30 * time.Second):
		assert.Fail(t, "the REST snapshot waited for the kline broadcast")
	}
	slow.mu.Unlock()
	<-ticked
	if !got {
		<-answered // before the test ends
	}
	_, msg, err := ws.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(msg), `"i":"1m"`, "the candle went out")
}
