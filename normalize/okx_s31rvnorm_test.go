package normalize

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// liquidation-orders was parsed, but no request of ours could ask for it:
// the channel takes a required instType and no instId (OKX v5
// "Liquidation orders channel", Request Parameters), and OKXSubscribe
// writes only instIds ({"channel":"liquidation-orders","instId":"SWAP"},
// which OKX refuses). OKXSubscribeLiquidations writes the doc's request;
// its ack and a push then come through. Failed before: no such function.
func TestS31rvOKXSubscribeLiquidations(t *testing.T) {
	req, err := OKXSubscribeLiquidations("SWAP")
	require.NoError(t, err)
	require.JSONEq(t, `{"op":"subscribe","args":[{"channel":"liquidation-orders","instType":"SWAP"}]}`, string(req))
	for _, it := range []string{"FUTURES", "MARGIN", "OPTION"} {
		_, err := OKXSubscribeLiquidations(it)
		require.NoError(t, err, it)
	}
	for _, bad := range []string{"", "SPOT", "swap", "BTC-USDT-SWAP", `SWAP"`} {
		_, err := OKXSubscribeLiquidations(bad)
		require.ErrorIs(t, err, ErrBadValue, bad)
	}

	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewOKX(events, sink, nil)
	ctx := context.Background()
	ack := `{"id":"1512","event":"subscribe","arg":{"channel":"liquidation-orders","instType":"SWAP"},"connId":"a4d3ae55"}`
	require.NoError(t, p.HandleBytes(ctx, []byte(ack), 1))
	doc, err := os.ReadFile("testdata/docs/okx_liquidation_orders.json")
	require.NoError(t, err)
	require.NoError(t, p.HandleBytes(ctx, doc, 2))
	require.Len(t, sink.got, 2)
	require.Equal(t, schema.EventControl, sink.got[0].Type)
	require.Equal(t, schema.ControlSubscribeAck, sink.got[0].Control.Kind)
	require.Equal(t, schema.EventLiquidation, sink.got[1].Type)
	require.Zero(t, p.Stats().Errors)
	require.Zero(t, p.Stats().Unknown)
	require.Zero(t, events.Stats().InUse)
}
