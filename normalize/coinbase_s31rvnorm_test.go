package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Coinbase Exchange "user" channel ("a version of the full channel that
// only contains messages that include the authenticated user_id",
// Exchange "WebSocket Channels") on one connection with "matches". The
// Exchange feed does not name a message's channel, and the authenticated
// matches channel adds the same members (taker_user_id, user_id,
// taker_profile_id, profile_id, taker_fee_rate) to a match the user took
// part in: a match is a public trade whichever channel carried it. What
// must hold: the user's fill is one trade, its side the taker's, never
// two (the user channel's copy of the match is a repeat of its trade_id,
// dropped and counted), and the full channel's order messages (received,
// open, done, change, activate) are not mistaken for anything: counted
// unknown, no event, no error.
func TestS31rvCoinbaseExchangeUserChannel(t *testing.T) {
	const match = `{"type":"match","trade_id":10,"sequence":50,"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8",` +
		`"taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD",` +
		`"size":"5.23512","price":"400.23","side":"sell",` +
		`"taker_user_id":"5844eceecf7e803e259d0365","user_id":"5844eceecf7e803e259d0365",` +
		`"taker_profile_id":"765d1549-9660-4be2-97d4-fa2d65fa3352","profile_id":"765d1549-9660-4be2-97d4-fa2d65fa3352","taker_fee_rate":"0.005"}`
	orders := []string{
		`{"type":"received","time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD","sequence":10,"order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","size":"5.23512","price":"400.23","side":"buy","order_type":"limit","user_id":"5844eceecf7e803e259d0365","profile_id":"765d1549-9660-4be2-97d4-fa2d65fa3352"}`,
		`{"type":"open","time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD","sequence":10,"order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","price":"200.2","remaining_size":"1.00","side":"sell","user_id":"5844eceecf7e803e259d0365","profile_id":"765d1549-9660-4be2-97d4-fa2d65fa3352"}`,
		`{"type":"done","time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD","sequence":10,"price":"200.2","order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","reason":"filled","side":"sell","remaining_size":"0","user_id":"5844eceecf7e803e259d0365","profile_id":"765d1549-9660-4be2-97d4-fa2d65fa3352"}`,
		`{"type":"change","reason":"modify_order","time":"2022-06-06T22:55:43.433114Z","sequence":24753,"order_id":"c3f16063-77b1-408f-a743-88b7bc20cdcd","side":"buy","product_id":"ETH-USD","old_size":"80","new_size":"80","old_price":"7","new_price":"6","user_id":"5844eceecf7e803e259d0365","profile_id":"765d1549-9660-4be2-97d4-fa2d65fa3352"}`,
		`{"type":"activate","product_id":"test-product","timestamp":"1483736448.299000","user_id":"12","profile_id":"30000727-d308-cf50-7b1c-c06deb1934fc","order_id":"7b52009b-64fd-0a2a-49e6-d8a939753077","stop_type":"entry","side":"buy","stop_price":"80","size":"2","funds":"50","private":true}`,
	}
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewCoinbase(events, sink, nil)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, []byte(match), 1)) // the matches channel's
	for _, o := range orders {
		require.NoError(t, p.HandleBytes(ctx, []byte(o), 2), o)
	}
	require.NoError(t, p.HandleBytes(ctx, []byte(match), 3)) // the user channel's copy

	require.Len(t, sink.got, 1)
	ev := sink.got[0]
	require.Equal(t, schema.EventTrade, ev.Type)
	require.Equal(t, "BTC-USD", ev.Symbol)
	require.Equal(t, schema.SideBuy, ev.Trade.Side) // the maker sold: the taker (the user) bought
	requireDigits(t, "400.23", ev.Trade.Price)
	requireDigits(t, "5.23512", ev.Trade.Qty)
	st := p.Stats()
	require.Equal(t, uint64(1), st.Repeats)
	require.Equal(t, uint64(len(orders)), st.Unknown)
	require.Zero(t, st.Errors)
	require.Zero(t, events.Stats().InUse)
}
