package session

import (
	"context"
	"testing"

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
