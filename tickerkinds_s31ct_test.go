package meltica_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// Binance streams two kinds of 24 h ticker of one symbol ("WebSocket
// Streams for Binance": "Individual Symbol Ticker Streams",
// <symbol>@ticker, event "24hrTicker", with the best bid and ask, price
// change and trade ids; "Individual Symbol Mini Ticker Stream",
// <symbol>@miniTicker, "24hrMiniTicker", close/open/high/low/volumes
// only). A bot may take both on one connection. Both are schema
// EventTicker of the same (venue, symbol): DESIGN.md contract 4 makes
// them latest-wins for a slow subscriber. Whatever it keeps, a slow
// subscriber must never see a ticker that is a mix of the two — a mini
// ticker carrying the bid and ask of a full one it replaced in a queue
// (schema.Ticker: "Fields a venue does not send stay zero") — and never
// one older (ExchangeTS) than one it already saw.
func TestS31ctSlowSubscriberNeverSeesAMixOfTwoTickerKinds(t *testing.T) {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	defer func() { require.NoError(t, d.Close(context.Background())) }()

	var mu sync.Mutex
	var got []schema.CanonicalEvent
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTicker}}, &dispatch.SubscribeOptions{
		Handler: func(ev *schema.CanonicalEvent) {
			once.Do(func() { close(entered) })
			<-release
			mu.Lock()
			got = append(got, *ev)
			mu.Unlock()
		},
	})
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)

	full := func(e int64, bid, ask, last string, lastID int) string {
		return fmt.Sprintf(`{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":%d,"s":"BTCUSDT","p":"15.00","P":"0.02","w":"67010.00","x":"66990.00","c":%q,"Q":"0.010","b":%q,"B":"1.5","a":%q,"A":"2.5","o":"66995.00","h":"67100.00","l":"66900.00","v":"1000.0","q":"67000000.0","O":%d,"C":%d,"F":1,"L":%d,"n":%d}}`,
			e, last, bid, ask, e-86_400_000, e, lastID, lastID)
	}
	mini := func(e int64, last string) string {
		return fmt.Sprintf(`{"stream":"btcusdt@miniTicker","data":{"e":"24hrMiniTicker","E":%d,"s":"BTCUSDT","c":%q,"o":"66995.00","h":"67100.00","l":"66900.00","v":"1000.0","q":"67000000.0"}}`, e, last)
	}
	ctx := context.Background()
	feed := func(msg string) {
		t.Helper()
		require.NoError(t, p.HandleBytes(ctx, []byte(msg), time.Now().UnixNano()), "%s", msg)
	}
	const e0 = int64(1_764_590_400_000)
	feed(full(e0, "67000.00", "67000.01", "67000.00", 100))
	<-entered // the handler holds the first ticker: the rest queue
	// Ten rounds, each a full ticker and then a mini ticker a millisecond
	// later, every price its own.
	for i := 1; i <= 10; i++ {
		feed(full(e0+int64(2*i), fmt.Sprintf("670%02d.00", i), fmt.Sprintf("670%02d.01", i), fmt.Sprintf("670%02d.00", i), 100+i))
		feed(mini(e0+int64(2*i+1), fmt.Sprintf("670%02d.50", i)))
	}
	close(release)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := len(got)
		return n > 0 && got[n-1].ExchangeTS == (e0+21)*int64(time.Millisecond)
	}, s27ctWait, time.Millisecond, "the latest ticker delivered in the end")

	mu.Lock()
	defer mu.Unlock()
	assert.Less(t, len(got), 21, "a slow subscriber sees fewer tickers")
	var last int64
	for i, ev := range got {
		tk := ev.Ticker
		desc := fmt.Sprintf("ticker %d at %d: last %s bid %s ask %s change %s", i, ev.ExchangeTS, tk.Last, tk.BidPrice, tk.AskPrice, tk.PriceChange)
		assert.GreaterOrEqual(t, ev.ExchangeTS, last, "never an older ticker after a newer one: %s", desc)
		last = ev.ExchangeTS
		ms := ev.ExchangeTS/int64(time.Millisecond) - e0
		if ms%2 == 1 { // a mini ticker: no bid, no ask, no change
			assert.True(t, tk.BidPrice.IsZero() && tk.AskPrice.IsZero() && tk.BidQty.IsZero() && tk.AskQty.IsZero(),
				"a mini ticker carrying a full ticker's quote: %s", desc)
			assert.True(t, tk.PriceChange.IsZero(), "a mini ticker carrying a full ticker's change: %s", desc)
			assert.Equal(t, fmt.Sprintf("670%02d.50", ms/2), tk.Last.String(), desc)
		} else { // a full ticker, whole
			assert.Equal(t, fmt.Sprintf("670%02d.00", ms/2), tk.Last.String(), desc)
			assert.Equal(t, fmt.Sprintf("670%02d.01", ms/2), tk.AskPrice.String(), desc)
			assert.Equal(t, "15.00", tk.PriceChange.String(), desc)
		}
	}
}

// The two kinds are two streams of the venue, each in its own order; on
// one connection a mini ticker of an earlier instant (E) may follow a
// full ticker of a later one. Both are the symbol's EventTicker: a
// subscriber that keeps "the latest ticker" (contract 4's latest-wins,
// per (venue, symbol, type)) would go back to an older last price. Each
// ticker a subscriber gets must be at least as recent (ExchangeTS) as
// the one before it.
func TestS31ctTickerOfAnEarlierInstantAfterALaterOneOfTheOtherKind(t *testing.T) {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	defer func() { require.NoError(t, d.Close(context.Background())) }()
	sub, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTicker}}, nil)
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)
	ctx := context.Background()
	const e0 = int64(1_764_590_400_000)
	msgs := []string{
		fmt.Sprintf(`{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":%d,"s":"BTCUSDT","p":"15.00","P":"0.02","w":"67010.00","x":"66990.00","c":"67010.00","Q":"0.010","b":"67010.00","B":"1.5","a":"67010.01","A":"2.5","o":"66995.00","h":"67100.00","l":"66900.00","v":"1000.0","q":"67000000.0","O":%d,"C":%d,"F":1,"L":200,"n":200}}`, e0+1000, e0+1000-86_400_000, e0+1000),
		fmt.Sprintf(`{"stream":"btcusdt@miniTicker","data":{"e":"24hrMiniTicker","E":%d,"s":"BTCUSDT","c":"66950.00","o":"66995.00","h":"67100.00","l":"66900.00","v":"999.0","q":"66900000.0"}}`, e0+400),
	}
	// A sentinel after them: an ETHUSDT ticker, queued behind.
	msgs = append(msgs, fmt.Sprintf(`{"stream":"ethusdt@miniTicker","data":{"e":"24hrMiniTicker","E":%d,"s":"ETHUSDT","c":"3500.00","o":"3400.00","h":"3600.00","l":"3300.00","v":"10.0","q":"35000.0"}}`, e0+2000))
	for _, m := range msgs {
		require.NoError(t, p.HandleBytes(ctx, []byte(m), time.Now().UnixNano()))
	}
	var seen []string
	var last int64
	s31ctUntilSentinel(t, sub, func(ev *schema.CanonicalEvent) {
		seen = append(seen, fmt.Sprintf("E=+%dms last=%s", ev.ExchangeTS/int64(time.Millisecond)-e0, ev.Ticker.Last))
		assert.GreaterOrEqual(t, ev.ExchangeTS, last, "a ticker older than one delivered before it: %v", seen)
		last = ev.ExchangeTS
	})
	assert.Equal(t, (e0+1000)*int64(time.Millisecond), last,
		"the subscriber's latest BTC-USDT ticker is the latest instant published (the full one, E=+1000ms, last 67010.00); delivered %v", seen)
}

// The same for best bid/offers: Binance's <symbol>@bookTicker ("u":
// order book updateId) and a depth book kept from <symbol>@depth (whose
// diffs carry the same order book's update ids, "U"/"u") both give the
// symbol's EventBBO — the book publishing each change of its best bid or
// offer (normalize/book, "What it publishes"). A book quote of update id
// 160 after a bookTicker of update id 200 is the older state of the same
// order book: a subscriber of best bid/offers must not end on it.
func TestS31ctBookQuoteOlderThanTheBookTickerIsNotTheLatest(t *testing.T) {
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"lastUpdateId":100,"bids":[["100.00","1"]],"asks":[["102.00","1"]]}`))
	}))
	defer rest.Close()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	defer func() { require.NoError(t, d.Close(context.Background())) }()
	sub, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}, nil)
	require.NoError(t, err)
	books := book.NewBooks(d, pools.Events, nil)
	defer books.Close()
	b, err := book.NewBook(book.Binance, "BTC-USDT", &book.Options{Sink: d, Events: pools.Events,
		Fetcher: &book.BinanceREST{BaseURL: rest.URL}})
	require.NoError(t, err)
	books.Add(b)
	p := normalize.NewBinance(pools.Events, books, nil)
	ctx := context.Background()
	for _, m := range []string{
		`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1764590400000,"s":"BTCUSDT","U":101,"u":150,"b":[["100.00","2"]],"a":[]}}`,
		`{"stream":"btcusdt@bookTicker","data":{"u":200,"s":"BTCUSDT","b":"101.00","B":"1","a":"101.50","A":"1"}}`,
		`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1764590400100,"s":"BTCUSDT","U":151,"u":160,"b":[["100.50","1"]],"a":[]}}`,
		// A sentinel behind them.
		`{"stream":"ethusdt@bookTicker","data":{"u":7,"s":"ETHUSDT","b":"3500.00","B":"1","a":"3500.01","A":"1"}}`,
	} {
		require.NoError(t, p.HandleBytes(ctx, []byte(m), time.Now().UnixNano()), "%s", m)
	}
	var seen []string
	s31ctUntilSentinel(t, sub, func(ev *schema.CanonicalEvent) {
		seen = append(seen, ev.BBO.BidPrice.String()+"/"+ev.BBO.AskPrice.String())
	})
	require.NotEmpty(t, seen)
	assert.Equal(t, "101.00/101.50", seen[len(seen)-1],
		"the subscriber's latest quote is the newest state of the order book (bookTicker u=200), not the book's of u=160; delivered %v", seen)
}

// s31ctUntilSentinel hands each BTC-USDT event sub delivers to f, up to
// the first event of another symbol: the sentinel published after them.
func s31ctUntilSentinel(t *testing.T, sub *dispatch.Subscription, f func(*schema.CanonicalEvent)) {
	t.Helper()
	deadline := time.After(s27ctWait)
	for {
		select {
		case ev := <-sub.C():
			if ev.Symbol != "BTC-USDT" {
				return
			}
			f(ev)
		case <-deadline:
			t.Fatal("the sentinel never came")
		}
	}
}
