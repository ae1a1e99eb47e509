package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
)

// BenchmarkS38sessLossOnFrame is the frame path's loss detection on a
// shard carrying a book and trades, for a frame of the live connection
// (the steady state: every frame of the market data takes it). Compare
// revisions with benchstat.
func BenchmarkS38sessLossOnFrame(b *testing.B) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	ctx := context.Background()
	s, err := Start(ctx, Config{Endpoints: Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"depth@100ms", "trade"}})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}()
	if err := s.WaitConnected(ctx); err != nil {
		b.Fatal(err)
	}
	sh := s.shards[0]
	f := &schema.WsFrame{ConnID: sh.client.Stats().ConnID}
	b.ReportAllocs()
	for b.Loop() {
		sh.lossOnFrame(f)
	}
}

// One mechanism finds a loss on the frame path: the shard's lossMarker,
// which announces it to the subscribers of data no book announces and
// breaks the shard's books — on a connection that carries only books too
// (before, it passed those over and a second detector, bookLoss, kept its
// own books of the same connections: two atomic loads a frame).
func TestS38sessLossMarkerBreaksTheBooksOfABookOnlyShard(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 400})
	t.Cleanup(v.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Config{Endpoints: Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"depth@100ms"}})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, s.Close(ctx))
	})
	require.NoError(t, s.WaitConnected(ctx))
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	require.True(t, b.Live())
	v.Pause(true) // no diff of the live connection makes it live again

	sh := s.shards[0]
	next := sh.client.Stats().ConnID + 1
	sh.loss.onFrame(&schema.WsFrame{ConnID: next, ReceivedAt: time.Now().UnixNano()})
	assert.False(t, b.Live(), "a frame of a later connection, no loss heard: the lossMarker breaks the book-only shard's book")
	assert.Equal(t, next, sh.loss.seen.Load())
}
