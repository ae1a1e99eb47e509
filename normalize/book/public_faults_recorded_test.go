package book

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// sharedRecordings holds the live sessions cryptofeed recorded
// (/work/shared/recordings, README.md there: line formats and sources).
const sharedRecordings = "../../../shared/recordings/"

// readLines returns the lines of a shared recording, skipping the test
// when the recordings are not present.
func readLines(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(sharedRecordings + name)
	if err != nil {
		t.Skip("no shared recordings: ", err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	require.NoError(t, sc.Err())
	return lines
}

// The real Binance session (BINANCE.ws.1.0: combined depth@100ms and
// bookTicker streams of four spot symbols, 2021-10-12) with the REST
// snapshots taken during it (BINANCE.http.0.0), replayed through the
// parser and the books, each book fetching its symbol's recorded
// snapshot: the snapshot race the public threads describe
// (bitrich-info/xchange-stream#86, thrasher-corp/gocryptotrader#506,
// decred/dcrdex#2908) on what the venue really sent. Every book goes
// live on one fetch, never gaps, never crosses, and wherever a bookTicker
// carries the update id the book is at (its "u" is the book's update
// id), the book's best bid and ask are the bookTicker's, digit for digit.
func TestRecordedBinanceSessionJoinsAndMatchesBookTicker(t *testing.T) {
	ws := readLines(t, "BINANCE.ws.1.0")
	snaps := map[string][]byte{}
	for _, l := range readLines(t, "BINANCE.http.0.0") {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		url, rest, ok := bytes.Cut(l, []byte(" -> "))
		require.True(t, ok)
		_, body, ok := bytes.Cut(rest, []byte(": "))
		require.True(t, ok)
		sym := strings.TrimSuffix(string(url[bytes.Index(url, []byte("symbol="))+len("symbol="):]), "&limit=1000")
		snaps[sym] = body
	}
	require.Len(t, snaps, 4)

	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	books := NewBooks(sink, events, nil)
	fetches := map[string]int{}
	canon := map[string]string{"NKNUSDT": "NKN-USDT", "BLZETH": "BLZ-ETH", "LRCBTC": "LRC-BTC", "RUNEEUR": "RUNE-EUR"}
	byCanon := map[string]*Book{}
	for vs, c := range canon {
		body := snaps[vs]
		b, err := NewBook(Binance, c, &Options{Sink: sink, Events: events, Fetcher: FetcherFunc(func(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
			fetches[symbol]++
			return normalize.ParseBinanceDepthSnapshot(ctx, nil, vs, body, dst)
		})})
		require.NoError(t, err)
		books.Add(b)
		byCanon[c] = b
	}
	p := normalize.NewBinance(events, books, nil)
	ctx := context.Background()
	compared := 0
	for _, l := range ws {
		ts, msg, ok := bytes.Cut(l, []byte(": "))
		if !ok || bytes.Contains(ts, []byte("<->")) || bytes.Contains(ts, []byte(" <- ")) {
			continue
		}
		n := len(sink.got)
		require.NoError(t, p.HandleBytes(ctx, msg, 1), "%s", msg)
		for _, ev := range sink.got[n:] {
			b := byCanon[ev.Symbol]
			if b == nil {
				continue
			}
			if q, live := b.BBO(); live {
				require.Negative(t, q.BidPrice.Cmp(q.AskPrice), "%s crossed: %s ≥ %s", ev.Symbol, q.BidPrice, q.AskPrice)
			}
			if ev.Type == schema.EventBBO && ev.SeqProvider != 0 && b.Live() && b.LastSeq() == ev.SeqProvider {
				q, _ := b.BBO()
				require.Equal(t, ev.BBO.BidPrice.String()+" "+ev.BBO.BidQty.String()+" / "+ev.BBO.AskPrice.String()+" "+ev.BBO.AskQty.String(),
					q.BidPrice.String()+" "+q.BidQty.String()+" / "+q.AskPrice.String()+" "+q.AskQty.String(), "%s at u %d", ev.Symbol, ev.SeqProvider)
				compared++
			}
		}
	}
	for c, b := range byCanon {
		st := b.Stats()
		require.True(t, b.Live(), c)
		require.Equal(t, 1, fetches[c], c)
		require.Zero(t, st.Gaps, c)
		require.Zero(t, st.Invalidations, c)
	}
	require.Zero(t, p.Stats().Errors)
	require.Zero(t, p.Stats().Gaps)
	require.Positive(t, compared, "no bookTicker met the book at its update id")
	t.Logf("bookTicker compared with the book at the same update id %d times", compared)
	require.Zero(t, events.Stats().InUse)
}
