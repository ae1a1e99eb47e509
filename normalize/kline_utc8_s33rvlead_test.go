package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A Binance UTC+8 kline of a combined stream ("<symbol>@kline_<i>@+08:00")
// costs no allocation in the steady state, as a UTC one: its interval's
// name "<i>+08:00" is interned (binanceIntervalsUTC8), not built per
// message; UTC and UTC+8 frames on one parser.
func TestS33rvleadBinanceUTC8KlineZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	const k = `{"e":"kline","E":1700006400001,"s":"BTCUSDT","k":{"t":1699977600000,"T":1700063999999,"s":"BTCUSDT","i":"1d","f":100,"L":200,"o":"37000.00","c":"37010.50","h":"37020.00","l":"36990.00","v":"12.345","n":101,"x":false,"q":"456789.12","V":"6.1","Q":"225000.00","B":"0"}}`
	frames := [][]byte{
		[]byte(`{"stream":"btcusdt@kline_1d@+08:00","data":` + k + `}`),
		[]byte(`{"stream":"btcusdt@kline_1d","data":` + k + `}`),
	}
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	p := NewBinance(events, sink, nil)
	ctx := context.Background()
	for _, f := range frames {
		require.NoError(t, p.HandleBytes(ctx, f, 1))
	}
	require.Equal(t, 2, sink.n) // named apart: TestS33leadBinanceUTC8KlinesNamedApart
	// Each frame measured alone: AllocsPerRun rounds its mean down, so
	// alternating them would hide one allocation in every other run.
	for _, f := range frames {
		allocs := testing.AllocsPerRun(100, func() {
			if err := p.HandleBytes(ctx, f, 1); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, "%s", f[:40])
	}
	require.Zero(t, p.Stats().Errors)
	require.Greater(t, sink.n, 200, "every frame delivered")
}
