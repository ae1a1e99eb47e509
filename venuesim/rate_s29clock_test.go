package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/venuesim"
)

// Options.Rate is the market messages made a second, and Stats.Messages
// counts them: a second of the venue's clock, moved a millisecond at a
// time, makes exactly Rate. Before, Messages counted every stream a
// message went out on (a trade as trade and aggTrade, a depth diff and
// its bookTicker, each kline): 1799 for a Rate of 1000.
func TestS29RateIsMessagesASecond(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 1000, Clock: clk, PingInterval: -1})
	defer v.Close()
	for range 1000 {
		clk.waitSleeping(t, time.Millisecond, 1)
		clk.Advance(time.Millisecond)
	}
	clk.waitSleeping(t, time.Millisecond, 1) // the last millisecond's messages are made
	assert.EqualValues(t, 1000, v.Stats().Messages)
}
