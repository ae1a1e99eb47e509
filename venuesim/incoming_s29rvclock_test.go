package venuesim_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/venuesim"
)

// Options.IncomingLimit on a clock stepped back (a fake Options.Clock,
// as a wall clock stepped by NTP): 5 messages, the clock set an hour
// back, then 2 s on; the next message is not cut (a second of the clock
// has passed since the step), 5 more within a second are, the 6th is.
// Before, the 5 messages made before the step lay in the clock's future:
// every message after it was "within a second" of them and the first was
// cut.
func TestS29rvIncomingLimitClockStepBack(t *testing.T) {
	clk := newS29rvSetClock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 1, Clock: clk, PingInterval: -1})
	defer v.Close()
	c := dial(t, v.StreamURL())
	defer func() { _ = c.CloseNow() }()
	id := 0
	list := func() {
		t.Helper()
		id++
		write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":`+strconv.Itoa(id)+`}`)
		assert.Contains(t, string(read(t, c)), `"id":`+strconv.Itoa(id))
	}
	for range 5 {
		list()
	}
	clk.set(t, s29Epoch.Add(-time.Hour))
	clk.set(t, s29Epoch.Add(-time.Hour+2*time.Second))
	for range 5 {
		list()
	}
	assert.EqualValues(t, 0, v.Stats().TooManyMessages)
	write(t, c, `{"method":"LIST_SUBSCRIPTIONS","id":99}`)
	_, _, err := c.Read(s29Ctx(t))
	assert.Error(t, err, "the 6th within the second is cut")
	assert.EqualValues(t, 1, v.Stats().TooManyMessages)
}
