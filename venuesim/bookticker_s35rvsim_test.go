package venuesim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	jsonv2 "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s35rvsimTop is a symbol's best bid and ask as a bookTicker names them
// (b, B, a, A). Caller holds the market lock.
func s35rvsimTop(s *symbolState) string {
	return fmt.Sprintf("%s %s %s %s", fmtDec(nil, s.bestBid), fmtDec(nil, s.bids[0]), fmtDec(nil, s.bestAsk()), fmtDec(nil, s.asks[0]))
}

// Binance pushes a bookTicker when the best bid or ask changes
// ("Individual Symbol Book Ticker Streams": "Pushes any update to the best
// bid or ask's price or quantity in real-time for a specified symbol").
// The venue sent one for a fifth of its messages with nothing changed
// (kind 6..9 of step: the top as it stood), and one after every depth
// diff, also a diff of levels below the top: a client counting
// bookTickers as changes of the top, or checking that each differs from
// the last, saw repeats Binance never sends. Now the bookTickers are
// exactly the changes of the top, in order, each the top after it.
func TestS35rvsimBookTickerOnlyOnChange(t *testing.T) {
	v := s34rvsimStoppedVenue(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // failure guard only
	defer cancel()
	ws, _, err := websocket.Dial(ctx, v.StreamURL("s0usdt@bookTicker"), nil)
	require.NoError(t, err)
	defer func() { _ = ws.CloseNow() }()
	s35simOneConn(t, v)

	got := make(chan []string, 1)
	go func() {
		var tops []string
		defer func() { got <- tops }()
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil || string(msg) == `{"end":true}` {
				return
			}
			var bt struct {
				Bid    string `json:"b"`
				BidQty string `json:"B"`
				Ask    string `json:"a"`
				AskQty string `json:"A"`
			}
			if jsonv2.Unmarshal(msg, &bt) != nil {
				tops = append(tops, "undecodable: "+string(msg))
				continue
			}
			tops = append(tops, bt.Bid+" "+bt.BidQty+" "+bt.Ask+" "+bt.AskQty)
		}
	}()

	m := v.mkt
	s := m.symbols[0]
	var want []string
	buf := make([]byte, 0, 4096)
	now := v.now()
	for range 600 {
		m.mu.Lock()
		before := s35rvsimTop(s)
		m.mu.Unlock()
		buf = v.step(buf[:0], now) // the generator waits on the stopped clock
		m.mu.Lock()
		if after := s35rvsimTop(s); after != before {
			want = append(want, after)
		}
		m.mu.Unlock()
	}
	v.broadcast([]string{"s0usdt@bookTicker"}, []byte(`{"end":true}`))
	tops := <-got
	require.Greater(t, len(want), 50, "the top moved often enough to tell")
	require.Len(t, tops, len(want), "one bookTicker a change of the top, none else")
	assert.Equal(t, want, tops, "each the top after its change")
}
