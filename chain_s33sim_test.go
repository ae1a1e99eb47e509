package meltica_test

import (
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// The options-chain shape: 1,000 symbols × 5 channels (trade, bookTicker,
// depth@100ms, kline_1m, kline_5m) wired as a user wires them (README:
// session.Start with the venue's endpoints, one dispatcher subscriber),
// against the simulated Binance, which serves every kline interval of
// Binance's "Kline/Candlestick chart intervals" and holds a connection to
// 1024 streams ("WebSocket Limits"). Every symbol delivers each channel at
// least once: its trades, its bookTicker quotes (EventBBO without an
// event time: spot bookTicker carries none, the book's own top carries
// its diff's), its depth diffs (book events), and its 1m and 5m candles.
// 5,000 streams at 204 symbols (1,020 streams) a connection are five
// connections; none refused or cut, no venue error.
func TestS33simOptionsChainFiveChannels(t *testing.T) {
	if raceEnabled {
		// As TestS32ctFiveThousandStreams.
		t.Skip("1,000 symbols × 5 channels: not under the race detector")
	}
	const n = 1000
	channels := []string{"trade", "bookTicker", "depth@100ms", "kline_1m", "kline_5m"}
	v, s, ours, ctx := s32ctChain(t, n, channels)
	var mu sync.Mutex
	seen := map[string]map[string]bool{} // symbol → channels delivered
	var venueErrors []string
	mark := func(sym, ch string) {
		m := seen[sym]
		if m == nil {
			m = map[string]bool{}
			seen[sym] = m
		}
		m[ch] = true
	}
	_, err := s.Dispatcher().Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case schema.EventTrade:
			mark(ev.Symbol, "trade")
		case schema.EventBBO:
			if ev.ExchangeTS == 0 && !ev.BBO.BidPrice.IsZero() {
				mark(ev.Symbol, "bookTicker")
			}
		case schema.EventBookUpdate, schema.EventBookSnapshot:
			mark(ev.Symbol, "depth@100ms")
		case schema.EventKlineLive, schema.EventKlineClosed:
			mark(ev.Symbol, "kline_"+ev.Kline.Interval)
		case schema.EventControl:
			if ev.Control.Kind == schema.ControlVenueError {
				venueErrors = append(venueErrors, ev.Control.Reason)
			}
		}
	}})
	require.NoError(t, err)
	require.NoError(t, s.WaitConnected(ctx), "what it saw: %s", s40flakeChainSaw(v, s))
	missing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, sym := range ours {
			for _, ch := range channels {
				if !seen[sym][ch] {
					out = append(out, sym+" "+ch)
				}
			}
		}
		return out
	}
	var last []string
	ok := assert.Eventually(t, func() bool {
		last = missing()
		return len(last) == 0
	}, 5*s27ctWait, 10*time.Millisecond, "every channel of every symbol")
	if !ok {
		sort.Strings(last)
		t.Logf("%d of %d missing, first: %s", len(last), n*len(channels), strings.Join(last[:min(len(last), 20)], ", "))
	}
	st := v.Stats()
	assert.EqualValues(t, 5, st.Active, "connections: 5,000 streams at 1,024 a connection, a symbol's five together")
	assert.Zero(t, st.SlowDropped+st.TooManyMessages+st.ConnectRefused, "%+v", st)
	require.NoError(t, s.Close(ctx))
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, venueErrors, "venue errors: %s", strings.Join(venueErrors, "; "))
}
