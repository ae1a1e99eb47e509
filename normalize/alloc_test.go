package normalize

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// depth20 is a diff with 20 levels a side, asks with Binance's legacy
// third element.
func depth20(u int) []byte { return depthN(u, 20, true) }

func depthN(u, n int, legacy bool) []byte {
	third := ""
	if legacy {
		third = ",[]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"e":"depthUpdate","E":1700000000423,"s":"BTCUSDT","U":%d,"u":%d,"b":[`, u, u)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["%d.%02d","1.50000000"]`, 37000-i, i)
	}
	b.WriteString(`],"a":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["%d.%02d","0.25000000"%s]`, 37001+i, i, third)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// TestBinanceZeroAllocs asserts the steady state: once the pool's events
// have grown their book slices and every symbol has been seen, a message
// costs no allocation.
func TestBinanceZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	tests := []struct {
		name string
		msg  func(i int) []byte
	}{
		{"trade", fixed(fixture(t, "trade"))},
		{"aggTrade", fixed(fixture(t, "aggTrade"))},
		{"combined trade", fixed(fixture(t, "combined_trade"))},
		{"bookTicker raw", fixed(fixture(t, "bookTicker_raw"))},
		{"bookTicker combined", fixed(fixture(t, "combined_bookTicker"))},
		{"depthUpdate 20 levels", depth20},
		{"executionReport", fixed(fixture(t, "exec_partial"))},
		{"executionReport wrapped", fixed(fixture(t, "exec_wrapped_amendment"))},
		{"kline", fixed(fixture(t, "kline_closed"))},
		{"24hrTicker", fixed(fixture(t, "ticker"))},
		{"miniTicker array", fixed(fixture(t, "miniTicker_arr"))},
		{"markPriceUpdate", fixed(fixture(t, "markPrice"))},
		{"forceOrder", fixed(fixture(t, "forceOrder"))},
		{"subscription ack", fixed(fixture(t, "ack"))},
		{"order.place response", fixed(fixture(t, "order_place_response"))},
		{"WS-API response", fixed(fixture(t, "wsapi_response"))},
		{"listenKeyExpired", fixed(fixture(t, "listenKeyExpired"))},
		{"eventStreamTerminated", fixed(fixture(t, "eventStreamTerminated"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			p := NewBinance(events, &putSink{events: events}, nil)
			ctx := context.Background()
			i := 0
			run := func() {
				i++
				if err := p.HandleBytes(ctx, tt.msg(i), 1); err != nil {
					t.Fatal(err)
				}
			}
			run() // warm up: symbol cache, book slices, sequence map
			msgs := make([][]byte, 200)
			for j := range msgs {
				msgs[j] = tt.msg(i + 1 + j)
			}
			k := 0
			allocs := testing.AllocsPerRun(len(msgs)-1, func() {
				if err := p.HandleBytes(ctx, msgs[k], 1); err != nil {
					t.Fatal(err)
				}
				k++
			})
			require.Zero(t, allocs)
			require.Zero(t, p.Stats().Errors)
		})
	}
}

func fixed(b []byte) func(int) []byte { return func(int) []byte { return b } }

// TestBinanceZeroAllocsEverySample runs every Binance fixture (account
// updates, execution reports, control and market data alike) through the
// same steady-state check: once warmed up, a message costs no allocation.
// The shared venue files are TestEverySampleZeroAllocs'.
func TestBinanceZeroAllocsEverySample(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	files, _ := filepath.Glob("testdata/binance/*.json")
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			events := schema.NewPools(nil).Events
			p := NewBinance(events, &putSink{events: events}, nil)
			ctx := context.Background()
			run := func() error { return p.HandleBytes(ctx, data, 1) }
			require.NoError(t, run(), "warm-up")
			allocs := testing.AllocsPerRun(50, func() {
				if err := run(); err != nil {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs)
			require.Zero(t, p.Stats().Errors)
		})
	}
}
