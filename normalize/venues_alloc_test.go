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

// venueFixture reads testdata/<venue>/<name>.json.
func venueFixture(t testing.TB, venue schema.Venue, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", string(venue), name+".json"))
	require.NoError(t, err)
	return b
}

// levelsJSON writes n levels with fmtLevel(price, qty) between commas.
func levelsJSON(n, base int, qty, format string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, format, base+i, i, qty)
	}
	return b.String()
}

// Book diffs with 20 levels a side, in each venue's spelling.
func coinbaseL2Diff(n int) []byte {
	return []byte(`{"channel":"l2_data","client_id":"","timestamp":"2026-04-07T14:30:01.456789Z","sequence_num":1,"events":[{"type":"update","product_id":"BTC-USD","updates":[` +
		levelsJSON(n, 68900, "1.50000000", `{"side":"bid","event_time":"2026-04-07T14:30:01.456789Z","price_level":"%d.%02d","new_quantity":"%s"}`) + `,` +
		levelsJSON(n, 69000, "0.25000000", `{"side":"offer","event_time":"2026-04-07T14:30:01.456789Z","price_level":"%d.%02d","new_quantity":"%s"}`) + `]}]}`)
}

// allocCase is one message a venue parser must normalise without
// allocating once warmed up.
type allocCase struct {
	venue schema.Venue
	name  string
	msg   func(t testing.TB) []byte
}

func fix(venue schema.Venue, name string) allocCase {
	return allocCase{venue, name, func(t testing.TB) []byte { return venueFixture(t, venue, name) }}
}

func gen(venue schema.Venue, name string, b func() []byte) allocCase {
	return allocCase{venue, name, func(testing.TB) []byte { return b() }}
}

var venueAllocCases = []allocCase{
	fix(cb, "market_trades"),
	fix(cb, "ticker"),
	fix(cb, "match"),
	fix(cb, "l2update"),
	gen(cb, "l2_data 20 levels", func() []byte { return coinbaseL2Diff(20) }),
	fix(schema.VenueKraken, "trade"),
	fix(schema.VenueKraken, "ticker"),
	fix(schema.VenueKraken, "v1_book_update"),
	fix(schema.VenueKraken, "v1_trade"),
	fix(schema.VenueKraken, "executions_trade"),
	gen(schema.VenueKraken, "book 20 levels", func() []byte { return krakenBookJSON(20) }),
	// s38rvnorm: a v2 book depth held until the message is accepted
	// (symMemo) — learnt from a 10-level snapshot with no ack on every
	// message, named by an ack on every message.
	gen(schema.VenueKraken, "book snapshot 10 levels, depth learnt", func() []byte { return []byte(krV2Snapshot(10)) }),
	gen(schema.VenueKraken, "book ack, depth named", func() []byte { return []byte(krV2Ack(25)) }),
	fix(schema.VenueOKX, "trades"),
	fix(schema.VenueOKX, "bbo_tbt"),
	fix(schema.VenueOKX, "tickers"),
	gen(schema.VenueOKX, "books 20 levels", func() []byte { return okxBookJSON(20, 5, 5) }),
	fix(schema.VenueBybit, "publicTrade"),
	fix(schema.VenueBybit, "tickers_snapshot"),
	gen(schema.VenueBybit, "orderbook delta 20 levels", func() []byte { return bybitBookJSON(20) }),
}

func bybitBookJSON(n int) []byte {
	return []byte(`{"topic":"orderbook.50.BTCUSDT","ts":1731035685345,"type":"delta","data":{"s":"BTCUSDT","b":[` +
		levelsJSON(n, 75800, "0.014895", `["%d.%d","%s"]`) + `],"a":[` +
		levelsJSON(n, 75900, "0", `["%d.%d","%s"]`) + `],"u":2876701,"seq":47474967823},"cts":1731035685342}`)
}

// okxBookJSON is a books diff; prevSeqId = seqId ("no change" in OKX's
// words) lets the same message repeat without a gap.
func okxBookJSON(n, prev, seq int) []byte {
	return []byte(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[` +
		levelsJSON(n, 30243, "1.2112", `["%d.%d","%s","0","4"]`) + `],"bids":[` +
		levelsJSON(n, 30200, "0.05", `["%d.%d","%s","0","1"]`) + fmt.Sprintf(`],"ts":"1652459225453","checksum":-652563973,"prevSeqId":%d,"seqId":%d}]}`, prev, seq))
}

func krakenBookJSON(n int) []byte {
	return []byte(`{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[` +
		levelsJSON(n, 66700, "0.50000000", `{"price":%d.%d,"qty":%s}`) + `],"asks":[` +
		levelsJSON(n, 66800, "1.25", `{"price":%d.%d,"qty":%s}`) + `],"checksum":902440905,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`)
}

// TestVenueZeroAllocs asserts the steady state of every venue: trades,
// best bid/offer and book updates (and tickers) cost no allocation once the
// symbol, the pool's book slices and the sequence maps have warmed up.
func TestVenueZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	for _, c := range venueAllocCases {
		t.Run(string(c.venue)+" "+c.name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			sink := &putSink{events: events}
			p := newVenueParser(c.venue, events, sink)
			ctx := context.Background()
			msg := c.msg(t)
			require.NoError(t, p.HandleBytes(ctx, msg, 1))
			require.NotZero(t, sink.n, "no event published")
			allocs := testing.AllocsPerRun(200, func() {
				if err := p.HandleBytes(ctx, msg, 1); err != nil {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs)
			require.Zero(t, p.Stats().Errors)
		})
	}
}
