package venuesim_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// OKX sends the books keep-alive (no levels, prevSeqId equal to seqId)
// only when the depth has not changed for about 60 s ("Order book
// channel", "Sequence ID": "If there are no updates to the depth for an
// extended period (Around 60 seconds) [...] a message with 'asks': [],
// 'bids': [] will be sent"). As OKX serves the channel today (no
// snapshot), the venue started no 60 s count at the subscription: the
// symbol's last OKX push was never (no OKX connection had been open), so
// the generator's first wake after the subscription sent a keep-alive
// at once, 1 ms of the clock in, as the subscriber's first push, ahead of
// the first real update. On the clock: the first push after the
// subscription is an update that carries levels.
func TestS31rvsimOKXFirstPushIsNoKeepAlive(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, Clock: clk, PingInterval: -1})
	defer v.Close()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`)))
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	require.Contains(t, string(msg), `"event":"subscribe"`)

	// The clock moves 1 ms at a time (each a wake of the generator)
	// until a wake has queued a push: the generator queues a wake's
	// pushes before it sleeps again.
	sent := v.Stats().Sent
	for {
		clk.waitSleeping(t, time.Millisecond, 1)
		if v.Stats().Sent > sent {
			break
		}
		clk.Advance(time.Millisecond)
	}
	_, first, err := c.Read(ctx)
	require.NoError(t, err)
	var p s31OKXPush
	require.NoError(t, json.Unmarshal(first, &p), "%s", first)
	require.Len(t, p.Data, 1, "%s", first)
	d := p.Data[0]
	assert.Equal(t, "update", p.Action)
	assert.NotEqual(t, d.PrevSeqID, d.SeqID, "the first push is a keep-alive, 1 ms after the subscription: %s", first)
	assert.NotEmpty(t, append(d.Bids, d.Asks...), "the first push carries levels: %s", first)
}
