package venuesim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/allocs"
)

// s34rvsimStopped is a clock that stands still: the generator sleeps in
// it until Close, so a test may call the ticks itself (their wire is the
// generator's).
type s34rvsimStopped struct{ at time.Time }

func (c s34rvsimStopped) Now() time.Time { return c.at }

func (c s34rvsimStopped) Sleep(ctx context.Context, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

// s34rvsimStoppedVenue starts a venue of n symbols on a clock that
// stands still.
func s34rvsimStoppedVenue(t *testing.T, n int) *Venue {
	t.Helper()
	syms := make([]string, n)
	for i := range syms {
		syms[i] = fmt.Sprintf("S%dUSDT", i)
	}
	v := Start(&Options{Symbols: syms, Rate: 100, PingInterval: -1, MaxConnAge: -1, IncomingLimit: -1,
		Clock: s34rvsimStopped{time.Date(2031, 3, 4, 5, 6, 0, 0, time.UTC)}})
	t.Cleanup(v.Close)
	return v
}

// The cadenced pushes cost what is subscribed: with 1,000 symbols and
// nothing subscribed a tick of every cadence allocates nothing; and a
// partial book subscribed at 1000 ms only ("Partial Book Depth Streams":
// <symbol>@depth<levels>, "Update Speed: 1000ms or 100ms") is not
// formatted on the ticks of the 100 ms cadence in between, whose stream
// nobody listens to. Before, every 100 ms tick formatted it (and named
// its stream) for the @100ms stream, ten times what was sent.
func TestS34rvsimTickCostsWhatIsSubscribed(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under the race detector")
	}
	v := s34rvsimStoppedVenue(t, 1000)
	ms := v.now().UnixMilli()
	buf := make([]byte, 0, 4096)
	idle := allocs.PerRun(20, func() {
		buf = v.klineTick(buf[:0], ms, true, true)
		v.partialTick(true, true)
		v.tickerArrays(ms)
		v.depthTick(ms, true, true)
	})
	assert.Zero(t, idle, "a tick with nothing subscribed")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, v.StreamURL("s7usdt@depth5"), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	fast := allocs.PerRun(20, func() { v.partialTick(false, true) })
	assert.Zero(t, fast, "a 100 ms tick with only a 1000 ms partial book subscribed")
	v.partialTick(true, true)
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(msg), `"lastUpdateId"`, "the 1000 ms tick pushes the book")
}

// The listeners of each speed of a partial book are counted in and out:
// a connection on both speeds, then gone, leaves no count.
func TestS34rvsimPartialSpeedsCounted(t *testing.T) {
	v := s34rvsimStoppedVenue(t, 1)
	counts := func() [2]int {
		v.mkt.mu.Lock()
		defer v.mkt.mu.Unlock()
		s := v.mkt.byLower["s0usdt"]
		return [2]int{s.partial[1], s.partialFast[1]}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, v.StreamURL("s0usdt@depth10", "s0usdt@depth10@100ms"), nil)
	require.NoError(t, err)
	require.Equal(t, [2]int{2, 1}, counts(), "both speeds, one at 100 ms")
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
	require.Eventually(t, func() bool { return counts() == [2]int{} }, time.Minute, time.Millisecond)
}
