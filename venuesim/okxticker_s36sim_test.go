package venuesim_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// OKX v5 "Tickers channel": "The fastest rate is 1 update/100ms. There
// will be no update if the event is not triggered. The events which can
// trigger update: trade, the change on best ask/bid." venuesim pushed a
// ticker with every trade: many in 100 ms at a busy instrument.
func TestS36simOKXTickersAtMostEvery100ms(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 1000, Clock: clk, Symbols: []string{"BTCUSDT"}})
	defer v.Close()
	c := s36OKX(t, v, "tickers")
	start := s29Epoch.UnixMilli()            // a multiple of 100 ms
	s36Step(t, clk, 25, 10*time.Millisecond) // some 80 trades
	for _, want := range []int64{100, 200} {
		d := s36Next(t, c)["data"].([]any)[0].(map[string]any)
		ts, err := strconv.ParseInt(d["ts"].(string), 10, 64)
		require.NoError(t, err)
		assert.Equal(t, want, ts-start, "one ticker a 100 ms")
		assert.NotEmpty(t, d["last"])
	}
}
