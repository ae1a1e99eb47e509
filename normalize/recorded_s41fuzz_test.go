package normalize

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s41fuzzRecordings holds the live sessions cryptofeed recorded
// (testdata/recordings/SOURCES: line formats and origin), gzipped.
const s41fuzzRecordings = "testdata/recordings/"

// TestS41fuzzRecordedSessionsCanonical replays what the venues really
// sent (Kraken v1 book at depth 1000, Coinbase Exchange level2 and
// ticker, Binance spot combined streams) through the venue's parser and
// holds every event to the fuzzers' property (s41fuzzCheck): exact
// decimals, only the type's section set, no negative quantity, no level
// at a price <= 0. Every error is a *ParseError and every event comes
// back to its pool.
func TestS41fuzzRecordedSessionsCanonical(t *testing.T) {
	for file, venue := range map[string]schema.Venue{
		"KRAKEN.ws.50.0.gz": schema.VenueKraken, "COINBASE.ws.28.0.gz": schema.VenueCoinbase, "BINANCE.ws.1.0.gz": schema.VenueBinance,
	} {
		t.Run(file, func(t *testing.T) {
			events := pool.New("rec", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
			published := 0
			sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
				defer events.Put(ev)
				published++
				if err := s41fuzzCheck(ev); err != nil {
					t.Fatalf("published an invalid event: %v: %+v", err, ev)
				}
				return nil
			})
			p := newVenueParser(venue, events, sink)
			frames := s41fuzzReceived(t, file)
			for i, msg := range frames[:min(len(frames), 3000)] { // the snapshots and a few thousand updates: seconds under -race
				err := p.HandleBytes(context.Background(), msg, int64(i+1))
				var pe *ParseError
				if err != nil && !errors.As(err, &pe) {
					t.Fatalf("line %d: error is not a *ParseError: %v", i, err)
				}
				require.Zero(t, events.Stats().InUse)
			}
			require.Positive(t, published)
			require.Zero(t, p.Stats().Panics)
		})
	}
}

// s41fuzzReceived returns the frames a recording received (lines
// "TIMESTAMP: MESSAGE").
func s41fuzzReceived(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(s41fuzzRecordings + name)
	require.NoError(t, err)
	defer f.Close()
	r, err := gzip.NewReader(f)
	require.NoError(t, err)
	var out [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		i := bytes.Index(line, []byte(": "))
		if i < 0 || bytes.ContainsAny(line[:i], " <>") { // a connection or a sent message
			continue
		}
		out = append(out, bytes.Clone(line[i+2:]))
	}
	require.NoError(t, sc.Err())
	return out
}
