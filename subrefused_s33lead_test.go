package meltica_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// A market subscription the venue refuses makes WaitConnected return a
// typed error, not wait for a book that never goes live. Binance refuses
// a SUBSCRIBE naming a stream it does not serve, whole ("Invalid
// request: invalid stream", code 2; WebSocket Streams, "Error Messages"):
// kline_2m is no Binance interval. Before: WaitConnected waited until its
// context ended (s33sim's report), the refusal published only as a
// ControlVenueError.
func TestS33leadRefusedSubscriptionEndsWaitConnected(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 50, PingInterval: -1})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*s27ctWait)
	defer cancel()
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT", "ETH-USDT"},
		Channels:  []string{"trade", "depth@100ms", "kline_2m"},
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(context.Background())) }()
	err = s.WaitConnected(ctx)
	var se *session.SubscribeError
	require.ErrorAs(t, err, &se, "WaitConnected: %v", err)
	require.False(t, errors.Is(err, context.DeadlineExceeded))
	require.Equal(t, schema.VenueBinance, se.Venue)
	require.EqualValues(t, 2, se.Code)
	require.Contains(t, se.Msg, "invalid stream")
}

// The same on OKX: a channel refused (60018, "doesn't exist"; OKX v5
// "Error Code", WebSocket public 60018) ends WaitConnected with the
// venue's code, while the books of the channel that was taken stay as
// they are.
func TestS33leadOKXRefusedChannelEndsWaitConnected(t *testing.T) {
	peer := newS30ctPeer(t)
	peer.handle("/ws/v5/public", func(_ *s30ctConn, text string) []string {
		if strings.Contains(text, `"candle2m"`) {
			return []string{`{"event":"error","code":"60018","msg":"Wrong URL or channel:candle2m,instId:BTC-USDT doesn't exist","connId":"s33lead"}`}
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*s27ctWait)
	defer cancel()
	s, err := session.Start(ctx, session.Config{
		Venue:       schema.VenueOKX,
		Endpoints:   session.Endpoints{Stream: peer.ws("/ws/v5/public")},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trades", "candle2m"},
		NoClockSync: true,
		Client:      s30ctFast(),
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(context.Background())) }()
	// Connected and subscribed: without the refusal WaitConnected would
	// return nil (no book); with it, it may return either, by which came
	// first — so wait until the refusal was answered, then ask.
	peer.await("/ws/v5/public", func(text string) bool { return strings.Contains(text, `"candle2m"`) })
	err = s.WaitConnected(ctx)
	if err == nil {
		return // ready before the refusal was read: the documented order
	}
	var se *session.SubscribeError
	require.ErrorAs(t, err, &se)
	require.EqualValues(t, 60018, se.Code)
}
