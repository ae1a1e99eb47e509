package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// An Advanced Trade frame whose channel is null (or missing) but which
// carries its sequence_num was received: it counts in the connection's
// sequence like any frame of an unknown channel. Before, it was read as an
// Exchange-feed frame of unknown type and left uncounted, so the next
// frame was a connection gap and every Coinbase book of the connection
// resynced for one strange message (found by s29ct).
func TestS29CoinbaseNullChannelCountsItsSequence(t *testing.T) {
	hb := func(ch string, seq int) []byte {
		return []byte(fmt.Sprintf(`{"channel":%s,"client_id":"","timestamp":"2026-04-07T14:30:10.000000Z","sequence_num":%d,"events":[{"current_time":"2026-04-07 14:30:10.000000000+00:00","heartbeat_counter":%d}]}`, ch, seq, seq))
	}
	for _, odd := range []string{`null`, `"no-such-channel"`} {
		t.Run(odd, func(t *testing.T) {
			p, _ := newTestVenue(t, schema.VenueCoinbase)
			ctx := context.Background()
			require.NoError(t, p.HandleBytes(ctx, hb(`"heartbeats"`, 0), 1))
			require.NoError(t, p.HandleBytes(ctx, hb(odd, 1), 1))
			require.NoError(t, p.HandleBytes(ctx, hb(`"heartbeats"`, 2), 1))
			require.Zero(t, p.(*Parser).Stats().Gaps, "a frame received is no lost message")
		})
	}
	t.Run("missing", func(t *testing.T) {
		p, _ := newTestVenue(t, schema.VenueCoinbase)
		ctx := context.Background()
		require.NoError(t, p.HandleBytes(ctx, hb(`"heartbeats"`, 0), 1))
		require.NoError(t, p.HandleBytes(ctx, []byte(`{"client_id":"","timestamp":"2026-04-07T14:30:10.000000Z","sequence_num":1,"events":[]}`), 1))
		require.NoError(t, p.HandleBytes(ctx, hb(`"heartbeats"`, 2), 1))
		require.Zero(t, p.(*Parser).Stats().Gaps, "a frame received is no lost message")
	})
}
