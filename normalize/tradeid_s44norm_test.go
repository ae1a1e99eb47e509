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

func s44cbTrades(ids ...string) string {
	trades := ""
	for i, id := range ids {
		if i > 0 {
			trades += ","
		}
		trades += fmt.Sprintf(`{"trade_id":%s,"product_id":"BTC-USD","price":"68900.5","size":"0.1","side":"BUY","time":"2026-04-07T14:30:02.%03dZ"}`, id, i+1)
	}
	return `{"channel":"market_trades","client_id":"","timestamp":"2026-04-07T14:30:02.9Z","sequence_num":0,"events":[{"type":"update","trades":[` + trades + `]}]}`
}

// Coinbase Advanced Trade sends trade_id as a string ("trade_id":
// "000000000" in its "Market Trades Channel" example; "995098701" in the
// recordings). It was decoded as an integer and written back, so
// "000000000" became "0" — the id of another trade, were Coinbase to send
// "0" — and an id that is no number was refused. Now the id is kept
// verbatim; SeqProvider is its value where it is a decimal number.
// Failed before: ID "0".
func TestS44normCoinbaseTradeIDVerbatim(t *testing.T) {
	for _, tc := range []struct {
		id, want string
		seq      uint64
	}{
		{`"000000000"`, "000000000", 0},
		{`"0"`, "0", 0},
		{`"000000042"`, "000000042", 42},
		{`"995098701"`, "995098701", 995098701},
		{`995098702`, "995098702", 995098702},
		{`"a1b2-c3"`, "a1b2-c3", 0},
	} {
		sink, events, err := handleOne(t, "coinbase", s44cbTrades(tc.id))
		require.NoError(t, err, tc.id)
		require.Len(t, sink.got, 1, tc.id)
		ev := sink.got[0]
		assert.Equal(t, schema.EventTrade, ev.Type)
		assert.Equal(t, tc.want, ev.Trade.ID.String(), tc.id)
		assert.Equal(t, tc.seq, ev.SeqProvider, tc.id)
		assert.Zero(t, events.Stats().InUse)
	}
}

// Two trades whose ids differ only by padding stay two trades with ids of
// their own, and an id of none (null, "", -1) is refused as missing.
func TestS44normCoinbaseTradeIDsDoNotCollide(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewCoinbase(events, sink, nil)
	require.NoError(t, p.HandleBytes(context.Background(), []byte(s44cbTrades(`"a7"`, `"b7"`)), 1))
	require.Len(t, sink.got, 2)
	assert.NotEqual(t, sink.got[0].Trade.ID.String(), sink.got[1].Trade.ID.String())

	for _, none := range []string{`null`, `""`, `-1`} {
		sink, events, err := handleOne(t, "coinbase", s44cbTrades(none))
		requireParseError(t, err, "trade_id", ErrMissingField)
		assert.Empty(t, sink.got, none)
		assert.Zero(t, events.Stats().InUse)
	}
}
