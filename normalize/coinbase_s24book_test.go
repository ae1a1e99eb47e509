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

// Advanced Trade "Heartbeats": "Real-time server pings (every second) to
// keep all connections open … No products or authentication required";
// "Most channels close within 60-90 seconds if no updates are sent.
// Subscribe to heartbeats to keep all subscriptions open." Its subscribe
// request names no product: CoinbaseSubscribe builds it without any, as
// its doc lists "heartbeats"; a channel about products still needs one.
func TestCoinbaseSubscribeHeartbeatsWithoutProducts(t *testing.T) {
	b, err := CoinbaseSubscribe("heartbeats")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"subscribe","channel":"heartbeats"}`, string(b))
	b, err = CoinbaseUnsubscribe("heartbeats")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"unsubscribe","channel":"heartbeats"}`, string(b))
	_, err = CoinbaseSubscribe("level2")
	assert.ErrorIs(t, err, ErrBadValue, "a level2 subscription names its products")
	b, err = CoinbaseSubscribe("level2", "BTC-USD")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]}`, string(b))
}

// Advanced Trade "WebSocket Overview": "You can also unsubscribe from a
// channel entirely by providing no product IDs."
func TestCoinbaseUnsubscribeWholeChannel(t *testing.T) {
	b, err := CoinbaseUnsubscribe("level2")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"unsubscribe","channel":"level2"}`, string(b))
	b, err = CoinbaseUnsubscribe("level2", "BTC-USD")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"unsubscribe","channel":"level2","product_ids":["BTC-USD"]}`, string(b))
	_, err = CoinbaseUnsubscribe("level2", `BTC"-USD`)
	assert.ErrorIs(t, err, ErrBadValue)
}

// A Coinbase Exchange book frame (snapshot, l2update) that does not
// decode is a lost book message: the Exchange feed's level2 frames carry
// no sequence (Exchange "Level2 channel"), so nothing after it would show
// the loss. A gap marker names its product when the frame names one
// before its fault, else marks every book of the venue; a frame of
// another type costs nothing else.
func TestCoinbaseExchangeBookFrameLost(t *testing.T) {
	for _, c := range []struct {
		name, msg, symbol string
		gap               bool
	}{
		{"truncated l2update", `{"type":"l2update","product_id":"BTC-USD","changes":[["buy","1","2"]],"time":"2023-02-09T20:32:50.714964Z"`, "BTC-USD", true},
		{"truncated snapshot", `{"type":"snapshot","product_id":"ETH-USD","bids":[["1","2"]],"asks":[`, "ETH-USD", true},
		{"l2update, product unread", `{"type":"l2update","changes":[["buy","1","2"]`, "", true},
		{"truncated ticker", `{"type":"ticker","product_id":"BTC-USD","price":"1"`, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, events, err := handleOne(t, "coinbase", c.msg)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			if !c.gap {
				assert.Empty(t, sink.got)
				return
			}
			require.Len(t, sink.got, 1, "one gap marker")
			require.Equal(t, schema.EventGap, sink.got[0].Type)
			assert.Equal(t, schema.EventBookUpdate, sink.got[0].Control.GapType)
			assert.Equal(t, c.symbol, sink.got[0].Symbol)
			assert.Zero(t, events.Stats().InUse)
		})
	}
}

// An Advanced Trade l2_data frame that does not decode past its
// sequence_num is a lost book message of the products it names: a gap
// marker for each (every book only when one is not named), and its
// sequence_num still counts, so the next frame is no connection gap that
// would resync every Coinbase book for one product's loss.
func TestCoinbaseL2FrameLostNamesProduct(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewCoinbase(events, sink, nil)
	ctx := context.Background()
	frame := func(seq int, body string) []byte {
		return fmt.Appendf(nil, `{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[%s]}`, seq, body)
	}
	require.NoError(t, p.HandleBytes(ctx, frame(1, `{"type":"snapshot","product_id":"BTC-USD","updates":[]}`), 1))
	// Cut short after its events (a frame cut inside them marks every
	// book: TestBookFrameCutInListMarksEveryBook).
	bad := frame(2, `{"type":"update","product_id":"ETH-USD","updates":[]}`)
	bad = append(bad[:len(bad)-1], `,"x":`...)
	var pe *ParseError
	require.ErrorAs(t, p.HandleBytes(ctx, bad, 2), &pe)
	require.NoError(t, p.HandleBytes(ctx, frame(3, `{"type":"update","product_id":"BTC-USD","updates":[]}`), 3))
	var gaps []*schema.CanonicalEvent
	for _, ev := range sink.got {
		if ev.Type == schema.EventGap {
			gaps = append(gaps, ev)
		}
	}
	require.Len(t, gaps, 1, "one marker: the lost product's, no connection gap after it")
	assert.Equal(t, "ETH-USD", gaps[0].Symbol)
	assert.Equal(t, schema.EventBookUpdate, gaps[0].Control.GapType)
	assert.Zero(t, events.Stats().InUse)
}
