package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS38rvnormOKXRPI: OKX's Retail Price Improvement Program "succeeds
// the Enhanced Liquidity Program (ELP). Existing ELP integrations must
// migrate to the RPI field names, order type, and market-data channel by
// 2026-10-31"; makers "place RPI orders through OpenAPI with ordType:
// rpi", and "RPI maker orders are post-only" (OKX help, "OKX Retail
// Price Improvement Program"). s38norm added elp, the word being retired,
// not rpi, the one that replaces it: an rpi order's reports had type and
// time in force Unknown. Failed before: OrderTypeUnknown, TIFUnknown.
func TestS38rvnormOKXRPI(t *testing.T) {
	x := s38rvnormOKXOrdType(t, "rpi")
	assert.Equal(t, schema.OrderTypeLimitMaker, x.Type)
	assert.Equal(t, schema.TIFGTC, x.TimeInForce)
}

// s38rvnormOKXOrdType returns the report of a live OKX spot order of
// ordType word, pushed on the orders channel.
func s38rvnormOKXOrdType(t *testing.T, word string) schema.Execution {
	t.Helper()
	f := newConnFeed(t, schema.VenueOKX)
	evs, err := f.feed(1, `{"arg":{"channel":"orders","instType":"SPOT"},"data":[{"instId":"BTC-USDT","ordId":"1","clOrdId":"c1","side":"sell","ordType":"`+word+`","px":"100","sz":"2","state":"live","uTime":"1700000000000","cTime":"1700000000000"}]}`)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	return s42normExec(t, evs[0])
}
