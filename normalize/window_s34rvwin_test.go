package normalize

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One bad element of an all-market rolling-window array (a negative
// weighted average price "w": Binance "All Market Rolling Window
// Statistics Streams") is refused, a typed error counted; the elements
// before and after it are still delivered.
func TestS34rvwinBinanceRollingArrayOneBadElement(t *testing.T) {
	good1 := strings.Replace(s34winRolling("1dTicker", 1672515782136, 18150), `"BNBBTC"`, `"ETHBTC"`, 1)
	bad := strings.Replace(s34winRolling("1dTicker", 1672515782136, 18150), `"w":"0.0018"`, `"w":"-0.0018"`, 1)
	good2 := strings.Replace(s34winRolling("1dTicker", 1672515782136, 18150), `"BNBBTC"`, `"LTCBTC"`, 1)
	for _, frame := range []string{
		`{"stream":"!ticker_1d@arr","data":[` + good1 + `,` + bad + `,` + good2 + `]}`,
		`[` + good1 + `,` + bad + `,` + good2 + `]`,
	} {
		p, got := feedFrames(t, NewBinance, nil, []string{frame})
		var syms []string
		for _, ev := range got {
			syms = append(syms, ev.Symbol+" "+ev.Ticker.Window)
		}
		assert.Equal(t, []string{"ETH-BTC 1d", "LTC-BTC 1d"}, syms, "the good elements around a bad one")
		assert.Equal(t, uint64(1), p.Stats().Errors, "the bad element counted")
	}
}

// A frame whose elements are tickers of two windows of one symbol (1d and
// the standard 24 h, same "E" and "L"), interleaved: each is its own
// stream, none a repeat of the other; a repeat within a window is still
// dropped.
func TestS34rvwinBinanceInterleavedWindowsInOneFrame(t *testing.T) {
	const day = `{"e":"24hrTicker","E":%d,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0017","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":%d,"n":18151}`
	frame := `[` + strings.Join([]string{
		fmt.Sprintf(day, 1672515782000, 100),
		s34winRolling("1dTicker", 1672515782000, 100),
		fmt.Sprintf(day, 1672515783000, 101),
		s34winRolling("1dTicker", 1672515782000, 100), // a repeat of the 1 d one
		s34winRolling("1dTicker", 1672515783000, 101),
	}, ",") + `]`
	p, got := feedFrames(t, NewBinance, nil, []string{frame})
	var seen []string
	for _, ev := range got {
		seen = append(seen, fmt.Sprintf("%q %d %s", ev.Ticker.Window, ev.SeqProvider, ev.Ticker.WeightedAvgPrice.String()))
	}
	assert.Equal(t, []string{`"" 100 0.0017`, `"1d" 100 0.0018`, `"" 101 0.0017`, `"1d" 101 0.0018`}, seen)
	require.Equal(t, uint64(1), p.Stats().Repeats)
	require.Zero(t, p.Stats().Errors)
}
