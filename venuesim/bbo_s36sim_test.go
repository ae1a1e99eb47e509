package venuesim_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// OKX "Order book channel": "bbo-tbt: 1 depth level snapshot will be
// pushed every 10 ms when there are changes in the 1 depth level
// snapshot". venuesim pushed one with every change of the book, the top's
// or not: a bot that keeps up with it on venuesim takes up to a hundred
// times OKX's rate at a busy top, and one that counts on a push only when
// the top changed saw repeats.
func TestS36simOKXBBOEvery10msWhenTheTopChanged(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 5000, Clock: clk, Symbols: []string{"BTCUSDT"}})
	defer v.Close()
	c := s36OKX(t, v, "bbo-tbt")
	start := s29Epoch.UnixMilli() // a multiple of 10 ms
	step := func(ms int) { s36Step(t, clk, ms, time.Millisecond) }
	ts := func() int64 {
		d := s36Next(t, c)["data"].([]any)[0].(map[string]any)
		n, err := strconv.ParseInt(d["ts"].(string), 10, 64)
		require.NoError(t, err)
		return n - start
	}
	step(20) // 100 messages, the top changed in many
	assert.Equal(t, int64(10), ts(), "the first push on the 10 ms cadence, not with the first change")
	assert.Equal(t, int64(20), ts(), "one push a 10 ms")
	v.Pause(true)
	step(20) // the top holds still from ms 20's messages on
	v.Pause(false)
	step(10)
	got := ts()
	if got == 30 { // ms 20's messages came after its push
		got = ts()
	}
	assert.Equal(t, int64(50), got, "no push at 40: the top did not change")
}
