package venuesim_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// OKX's idle cut on a clock stepped back an hour (a fake Options.Clock,
// as a wall clock stepped by NTP): a connection nothing is pushed to is
// still closed 4004 after 30 s of the clock from the step, not after the
// hour the clock must regain (the last push, now ahead of the clock,
// counted from there).
func TestS30rvsimOKXIdleCutAfterStepBack(t *testing.T) {
	clock := newS29rvSetClock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, PingInterval: -1, Clock: clock})
	defer v.Close()
	v.Pause(true)
	sleepers := func() int {
		clock.mu.Lock()
		defer clock.mu.Unlock()
		return clock.at[clock.gen]
	}
	clock.set(t, s29Epoch)
	require.Eventually(t, func() bool { return sleepers() == 1 }, time.Minute, time.Millisecond, "the generator")
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	require.Eventually(t, func() bool { return sleepers() == 2 }, time.Minute, time.Millisecond, "and the idle cut")
	clock.set(t, s29Epoch.Add(-time.Hour))
	require.Eventually(t, func() bool { return sleepers() == 2 }, time.Minute, time.Millisecond, "both saw the step")
	clock.set(t, s29Epoch.Add(-time.Hour+30*time.Second))
	_, _, err = c.Read(ctx)
	assert.Equal(t, websocket.StatusCode(4004), websocket.CloseStatus(err), "%v", err)
}
