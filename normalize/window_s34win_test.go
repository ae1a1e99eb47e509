package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Binance spot rolling-window tickers (Binance Spot "WebSocket Streams",
// "Individual Symbol Rolling Window Statistics Streams" and "All Market
// Rolling Window Statistics Streams": <symbol>@ticker_<1h|4h|1d>,
// !ticker_<1h|4h|1d>@arr, "e":"1hTicker", "4hTicker", "1dTicker") were
// counted Ignored: schema.Ticker named no window. They are tickers of
// their window (Ticker.Window "1h", "4h", "1d"), on every stream form,
// with the window's weighted average price "w".

// s34winRolling is a rolling-window ticker of BNBBTC as the page shows it
// (its values), of event type e, event time ms and last trade id last.
func s34winRolling(e string, ms int64, last int) string {
	return fmt.Sprintf(`{"e":%q,"E":%d,"s":"BNBBTC","p":"0.0015","P":"250.00","o":"0.0010","h":"0.0025","l":"0.0010","c":"0.0025","w":"0.0018","v":"10000","q":"18","O":%d,"C":%d,"F":0,"L":%d,"n":18151}`,
		e, ms, ms-3_600_000, ms, last)
}

func TestS34winBinanceRollingWindowTickers(t *testing.T) {
	h1 := s34winRolling("1hTicker", 1672515782136, 18150)
	h4 := s34winRolling("4hTicker", 1672515782136, 18150)
	d1 := s34winRolling("1dTicker", 1672515782136, 18150)
	for _, c := range []struct {
		name, frame, window string
	}{
		{"raw 1h", h1, "1h"},
		{"raw 4h", h4, "4h"},
		{"raw 1d", d1, "1d"},
		{"combined 1h", `{"stream":"bnbbtc@ticker_1h","data":` + h1 + `}`, "1h"},
		{"combined 4h", `{"stream":"bnbbtc@ticker_4h","data":` + h4 + `}`, "4h"},
		{"combined 1d", `{"stream":"bnbbtc@ticker_1d","data":` + d1 + `}`, "1d"},
		{"all market 1h", `{"stream":"!ticker_1h@arr","data":[` + h1 + `]}`, "1h"},
		{"all market 1d, raw", `[` + d1 + `]`, "1d"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, got := feedFrames(t, NewBinance, nil, []string{c.frame})
			st := p.Stats()
			require.Zero(t, st.Ignored)
			require.Zero(t, st.Unknown)
			require.Zero(t, st.Errors)
			require.Len(t, got, 1)
			ev := got[0]
			require.Equal(t, schema.EventTicker, ev.Type)
			assert.Equal(t, "BNB-BTC", ev.Symbol)
			x := ev.Ticker
			assert.Equal(t, c.window, x.Window)
			requireDigits(t, "0.0025", x.Last)
			requireDigits(t, "0.0010", x.Open)
			requireDigits(t, "0.0025", x.High)
			requireDigits(t, "0.0010", x.Low)
			requireDigits(t, "10000", x.Volume)
			requireDigits(t, "18", x.QuoteVolume)
			requireDigits(t, "0.0015", x.PriceChange)
			requireDigits(t, "250.00", x.ChangePct)
			requireDigits(t, "0.0018", x.WeightedAvgPrice)
			assert.True(t, x.BidPrice.IsZero() && x.AskPrice.IsZero() && x.LastQty.IsZero(), "the rolling window ticker has no b, a, Q")
			assert.Equal(t, int64(1672515782136-3_600_000)*1e6, x.WindowOpen)
			assert.Equal(t, int64(1672515782136)*1e6, x.WindowClose)
			assert.Equal(t, uint64(18151), x.TradeCount)
			assert.Equal(t, uint64(18150), ev.SeqProvider)
			assert.Equal(t, int64(1672515782136)*1e6, ev.ExchangeTS)
		})
	}
}

// A rolling-window ticker states its window ("O", "C") and its statistics
// ("p", "P", "n") as the 24hrTicker does: one without them is refused, a
// *ParseError naming the key, never an event of zeros. (It has no "Q",
// "b", "a": not required.)
func TestS34winBinanceRollingWindowRequiredKeys(t *testing.T) {
	full := s34winRolling("4hTicker", 1672515782136, 18150)
	for _, key := range []string{"p", "P", "O", "C", "n", "c"} {
		t.Run(key, func(t *testing.T) {
			msg := s34winWithout(t, full, key)
			sink, events, err := handleOne(t, "binance", msg)
			requireParseError(t, err, key, ErrMissingField)
			assert.Empty(t, sink.got)
			assert.Zero(t, events.Stats().InUse)
		})
	}
}

// s34winWithout removes member key (a number or a string) from msg.
func s34winWithout(t *testing.T, msg, key string) string {
	t.Helper()
	var out []byte
	i := 0
	pat := `"` + key + `":`
	for i < len(msg) {
		if len(msg)-i > len(pat) && msg[i:i+len(pat)] == pat && (msg[i-1] == ',' || msg[i-1] == '{') {
			j := i + len(pat)
			for j < len(msg) && msg[j] != ',' && msg[j] != '}' {
				j++
			}
			if j < len(msg) && msg[j] == ',' {
				j++
			} else if len(out) > 0 && out[len(out)-1] == ',' {
				out = out[:len(out)-1]
			}
			out = append(out, msg[j:]...)
			return string(out)
		}
		out = append(out, msg[i])
		i++
	}
	t.Fatalf("no %q in %s", key, msg)
	return ""
}

// The 24hrTicker's "w" (Binance "Individual Symbol Ticker Streams":
// "Weighted average price") is Ticker.WeightedAvgPrice; the standard
// tickers name no window; the mini ticker has no "w".
func TestS34winBinanceTickerWeightedAvgPrice(t *testing.T) {
	const full = `{"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151}`
	const mini = `{"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}`
	_, got := feedFrames(t, NewBinance, nil, []string{full, mini})
	require.Len(t, got, 2)
	requireDigits(t, "0.0018", got[0].Ticker.WeightedAvgPrice)
	assert.Empty(t, got[0].Ticker.Window)
	assert.True(t, got[1].Ticker.WeightedAvgPrice.IsZero())
	assert.Empty(t, got[1].Ticker.Window)
	_, err := handleOneErr(t, `{"e":"1hTicker","E":1,"s":"BNBBTC","p":"0","P":"0","o":"1","h":"1","l":"1","c":"1","w":"-1","v":"1","q":"1","O":0,"C":1,"F":0,"L":1,"n":1}`)
	requireParseError(t, err, "w", ErrNegative)
}

func handleOneErr(t *testing.T, msg string) (*recSink, error) {
	t.Helper()
	sink, events, err := handleOne(t, "binance", msg)
	assert.Zero(t, events.Stats().InUse)
	return sink, err
}

// The parser drops a quote older than the last one delivered of its
// stream, and — across the standard tickers (24hrTicker beside
// 24hrMiniTicker) — one older than the other kind's. Its windows are
// streams apart: a 1 h ticker stamped before a 24 h one delivered is no
// older statistics of the 24 h window, and a 1 d ticker with the 24 h
// one's last trade id "L" is no repeat of it. Before, one window's
// ticker was dropped (counted as a repeat) for another's newer one.
func TestS34winBinanceWindowsStaleApart(t *testing.T) {
	const day = `{"e":"24hrTicker","E":%d,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":%d,"n":18151}`
	frames := []string{
		fmt.Sprintf(day, 1672515782000, 100),
		s34winRolling("1hTicker", 1672515781000, 100), // earlier E than the 24 h one: its own window
		s34winRolling("1dTicker", 1672515782000, 100), // the 24 h one's L and E: its own window
		s34winRolling("4hTicker", 1672515780000, 99),
		s34winRolling("1hTicker", 1672515781000, 100), // the 1 h one again: a repeat
		s34winRolling("1hTicker", 1672515780500, 99),  // older than the 1 h one delivered
		s34winRolling("1hTicker", 1672515783000, 101),
	}
	p, got := feedFrames(t, NewBinance, nil, frames)
	var windows []string
	for _, ev := range got {
		windows = append(windows, fmt.Sprintf("%s %d", ev.Ticker.Window, ev.SeqProvider))
	}
	assert.Equal(t, []string{" 100", "1h 100", "1d 100", "4h 99", "1h 101"}, windows)
	assert.Equal(t, uint64(2), p.Stats().Repeats)
}

// A rolling-window ticker dropped on an exhausted pool marks its stream
// stale until a fresher ticker of its window is published; a fresher
// ticker of another window (the 24 h one) supersedes nothing: the 1 h
// ticker's loss is announced by a gap marker naming the window. Before,
// the marks were kept per (symbol, type): the 24 h ticker cleared the 1 h
// ticker's mark, and its subscribers held a stale 1 h ticker unannounced.
func TestS34winBinanceStaleMarkNamesTheWindow(t *testing.T) {
	ctx := context.Background()
	p, sink, events, held := s25gapParser(t, 4, 0)
	require.ErrorIs(t, p.HandleBytes(ctx, []byte(s34winRolling("1hTicker", 1672515782000, 100)), 1), ErrDropped)
	events.Put(held[0])
	events.Put(held[1])
	held = held[2:]
	const day = `{"e":"24hrTicker","E":1672515783000,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":101,"n":18151}`
	require.NoError(t, p.HandleBytes(ctx, []byte(day), 2))
	var seen []string
	for _, ev := range sink.evs {
		seen = append(seen, fmt.Sprintf("%s %s %q", ev.Type, s42normRead(ev).Control.GapType, ev.TickerWindow()))
	}
	assert.Equal(t, []string{`gap ticker "1h"`, `ticker unknown ""`}, seen)
	sink.drain(events)
	for _, ev := range held {
		events.Put(ev)
	}
}

// A rolling-window ticker, on every stream form, costs no allocation once
// its stream was seen (the fixtures' TestBinanceZeroAllocsEverySample
// covers one message; this one a stream of new ones).
func TestS34winBinanceRollingWindowZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	events := schema.NewPools(nil).Events
	p := NewBinance(events, &putSink{events: events}, nil)
	ctx := context.Background()
	msgs := make([][]byte, 0, 300)
	for i := range 300 {
		ms := int64(1672515782000 + i)
		switch i % 3 {
		case 0:
			msgs = append(msgs, []byte(`{"stream":"bnbbtc@ticker_1h","data":`+s34winRolling("1hTicker", ms, 100+i)+`}`))
		case 1:
			msgs = append(msgs, []byte(`{"stream":"!ticker_4h@arr","data":[`+s34winRolling("4hTicker", ms, 100+i)+`]}`))
		default:
			msgs = append(msgs, []byte(s34winRolling("1dTicker", ms, 100+i)))
		}
	}
	for _, m := range msgs[:3] {
		require.NoError(t, p.HandleBytes(ctx, m, 1))
	}
	k := 3
	allocs := testing.AllocsPerRun(len(msgs)-4, func() {
		if err := p.HandleBytes(ctx, msgs[k], 1); err != nil {
			t.Fatal(err)
		}
		k++
	})
	require.Zero(t, allocs)
	st := p.Stats()
	require.Zero(t, st.Errors)
	require.Zero(t, st.Repeats)
	require.Zero(t, st.Ignored)
}

// FuzzS34winBinanceRollingTicker fuzzes the rolling-window ticker's
// decoder directly (seeds: every Binance fixture, the rolling tickers'
// among them).
func FuzzS34winBinanceRollingTicker(f *testing.F) {
	f.Add([]byte(s34winRolling("1hTicker", 1672515782136, 18150)))
	fuzzKind(f, bnTicker1h)
}
