package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Advanced Trade "Sequence numbers": sequence_num counts every message of
// the connection, whatever its channel; a jump is a message lost. A frame
// received but malformed is not lost: its ParseError says what went
// wrong, and it costs nothing else (DESIGN: bad input costs nothing
// else). A market_trades, ticker or heartbeats frame that does not decode
// past its sequence_num still counts, so the next frame is no connection
// gap, which would resync every Coinbase book of the connection for a
// trades message.
func TestCoinbaseFrameLostCountsSequence(t *testing.T) {
	for _, bad := range []string{
		`{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":2,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"ETH-USD","price":"1`,
		`{"channel":"ticker","client_id":"","timestamp":"2023-02-09T20:30:37.167359596Z","sequence_num":2,"events":[{"type":"update","tickers":[{"type":"ticker","product_id":"BTC-USD","price":`,
		`{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":2,"events":[{"current_time":"2023-06-23 20:31:56","heartbeat_counter":`,
	} {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		sink := &recSink{events: events}
		p := NewCoinbase(events, sink, nil)
		ctx := context.Background()
		frame := func(seq int, body string) []byte {
			return fmt.Appendf(nil, `{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[%s]}`, seq, body)
		}
		require.NoError(t, p.HandleBytes(ctx, frame(1, `{"type":"snapshot","product_id":"BTC-USD","updates":[]}`), 1))
		var pe *ParseError
		require.ErrorAs(t, p.HandleBytes(ctx, []byte(bad), 2), &pe)
		require.NoError(t, p.HandleBytes(ctx, frame(3, `{"type":"update","product_id":"BTC-USD","updates":[]}`), 3))
		for _, ev := range sink.got {
			assert.NotEqual(t, schema.EventGap, ev.Type, "a malformed frame received is no message lost: %s", bad)
		}
		assert.Zero(t, p.Stats().Gaps)
		assert.Zero(t, events.Stats().InUse)
	}
}
