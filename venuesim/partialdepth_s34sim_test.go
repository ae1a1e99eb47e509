package venuesim_test

import (
	"testing"
	"time"

	jsonv2 "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Binance pushes the partial book depth streams on their own clock: "Top
// <levels> bids and asks, pushed every second", <symbol>@depth<levels>
// every 1000 ms and <symbol>@depth<levels>@100ms every 100 ms (spot
// "WebSocket Streams", "Partial Book Depth Streams", "Update Speed:
// 1000ms or 100ms"), whether or not the book moved. The simulator pushed
// them on each change of the book, both speeds alike: a still book was
// never pushed, a busy one far more often than Binance does. With the
// market paused (the book still, lastUpdateId unchanged) and the clock
// moved tick by tick, the @100ms stream comes every 100 ms and the plain
// one every second, each the book's top five levels a side.
func TestS34simPartialDepthCadence(t *testing.T) {
	t0 := s34simT0
	v, clk := s34simStart(t, "BTCUSDT")
	v.Pause(true) // the book holds still from the start
	c, ctx := s33simDial(t, v.CombinedURL())
	msgs := s34simReader(ctx, t, c)
	s34simSubscribe(ctx, t, c, msgs, "btcusdt@depth5", "btcusdt@depth5@100ms")
	type book struct {
		LastUpdateID uint64      `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}
	var first *book
	// tickTo moves the clock to t0+d, the generator armed, and reads the
	// streams pushed, in order.
	tickTo := func(d time.Duration, want ...string) {
		t.Helper()
		clk.waitSleeping(t, time.Millisecond, 1)
		clk.Advance(t0.Add(d).Sub(clk.Now()))
		for _, stream := range want {
			m := s34simNext(t, msgs)
			require.Equal(t, stream, m.Stream, "at %v: %s", d, m.Raw)
			var b book
			require.NoError(t, jsonv2.Unmarshal(m.Data, &b))
			assert.Len(t, b.Bids, 5)
			assert.Len(t, b.Asks, 5)
			if first == nil {
				first = &b
			}
			assert.Equal(t, *first, b, "the book holds still")
		}
	}
	tickTo(50 * time.Millisecond) // no tick yet: read nothing
	tickTo(100*time.Millisecond, "btcusdt@depth5@100ms")
	tickTo(900*time.Millisecond, "btcusdt@depth5@100ms") // 200 … 800 ms skipped: one push
	tickTo(time.Second, "btcusdt@depth5", "btcusdt@depth5@100ms")
	tickTo(time.Second+100*time.Millisecond, "btcusdt@depth5@100ms")
	tickTo(2*time.Second, "btcusdt@depth5", "btcusdt@depth5@100ms")
}
