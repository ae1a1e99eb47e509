package wsclient

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// okxBooks are an OKX books subscription's frames from the repository's
// testdata (real venue messages, see testdata/venues/SOURCES.md): its
// answer, the snapshot a connection gets once, after subscribing, and
// the updates every connection gets alike, byte for byte.
type okxBooks struct {
	ack, snap, update string
}

func loadOKXBooks(t *testing.T) okxBooks {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "venues", name))
		require.NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	return okxBooks{read("okx_subscribe_ack.json"), read("okx_books_snapshot.json"), read("okx_books_update.json")}
}

// snapshotAt is the snapshot a connection got when it subscribed: the
// book at another instant on each (its "ts").
func (b okxBooks) snapshotAt(n int) string {
	return strings.Replace(b.snap, `"ts":"`, fmt.Sprintf(`"ts":"%d`, n), 1)
}

// updateAt is update k, the same bytes on every connection.
func (b okxBooks) updateAt(k int) string {
	return strings.Replace(b.update, `"ts":"`, fmt.Sprintf(`"ts":"%d`, k), 1)
}

// A healthy rotation of an OKX books stream (the real parser's AlignKey):
// the new connection gets, after its subscription's answer, a snapshot of
// its own, then the updates the old connection delivers too. The
// snapshot comes before the join, and the old connection delivered its
// content (as updates): dropping it loses nothing. It must not be
// reported as ErrRotationDropped — an alarm on every healthy rotation of
// OKX books (and of Bybit orderbook, Kraken v1 and v2 book, Kraken v2
// trade, ticker and ohlc, Coinbase Exchange level2: every subscription
// that starts with a snapshot) teaches the host to ignore it.
func TestS29rvHealthyRotationWithSnapshotNoDropAlarm(t *testing.T) {
	events := pool.New("s29rv.events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	p := normalize.NewOKX(events, normalize.SinkFunc(nil), nil)
	rotateOKXBooks(t, p.AlignKey)
	require.NoError(t, events.Shutdown(context.Background()))
}

// With the key that normalize should give (nil for the snapshot, the
// parser's otherwise), the same rotation is aligned at the first update
// both connections got, the snapshot dropped and nothing reported.
func TestS29rvSnapshotWithoutKeyNoDropAlarm(t *testing.T) {
	events := pool.New("s29rv.events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	p := normalize.NewOKX(events, normalize.SinkFunc(nil), nil)
	rotateOKXBooks(t, func(b []byte) []byte {
		if strings.Contains(string(b), `"action":"snapshot"`) {
			return nil
		}
		return p.AlignKey(b)
	})
	require.NoError(t, events.Shutdown(context.Background()))
}

// rotateOKXBooks rotates a client of an OKX books stream whose AlignKey is
// key and checks that the rotation reported nothing and dropped the new
// connection's snapshot.
func rotateOKXBooks(t *testing.T, key func([]byte) []byte) {
	b := loadOKXBooks(t)
	rotateWithSnapshot(t, schema.VenueOKX, key, func(int) string { return b.ack }, b.snapshotAt, b.updateAt)
}

// The key a rotation needs of normalize for the venues' subscription
// snapshots (real messages, testdata/venues): nil for a snapshot a
// connection gets once, after subscribing (OKX books "action":"snapshot";
// Kraken v2 book, trade, ticker and ohlc "type":"snapshot", and v1 book
// {"as","bs"}; Bybit orderbook "type":"snapshot"; Coinbase Exchange
// level2 "type":"snapshot" and matches "type":"last_match"), the frame itself for Bybit's publicTrade and
// spot tickers, whose every push says "type":"snapshot" (keyless, they
// could never align a rotation).
func TestS29rvNormalizeSnapshotKeys(t *testing.T) {
	events := pool.New("s29rv.events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	parsers := map[string]*normalize.Parser{
		"okx":      normalize.NewOKX(events, normalize.SinkFunc(nil), nil),
		"kraken":   normalize.NewKraken(events, normalize.SinkFunc(nil), nil),
		"bybit":    normalize.NewBybit(events, normalize.SinkFunc(nil), nil),
		"coinbase": normalize.NewCoinbase(events, normalize.SinkFunc(nil), nil),
	}
	for name, keyed := range map[string]bool{
		"okx_books_snapshot.json":                false,
		"kraken_v2_book_snapshot.json":           false,
		"kraken_v2_trade_snapshot.json":          false,
		"kraken_v2_ticker_snapshot.json":         false,
		"kraken_v2_ohlc_snapshot.json":           false,
		"kraken_v1_book_snapshot.json":           false,
		"bybit_v5_orderbook_snapshot.json":       false,
		"coinbase_exchange_level2_snapshot.json": false,
		"coinbase_exchange_last_match.json":      false,
		"bybit_v5_publicTrade.json":              true,
		"bybit_v5_tickers_spot.json":             true,
		"okx_books_update.json":                  true,
		"kraken_v2_book_update.json":             true,
		"bybit_v5_orderbook_delta.json":          true,
	} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "venues", name))
		require.NoError(t, err)
		k := parsers[strings.Split(name, "_")[0]].AlignKey(b)
		require.Equal(t, keyed, k != nil, name)
	}
	require.NoError(t, events.Shutdown(context.Background()))
}
