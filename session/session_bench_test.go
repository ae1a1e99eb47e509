package session_test

import (
	"context"
	"testing"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// BenchmarkPlace is one order's round trip through the session against
// the simulated venue on loopback: validation, signing, the write, the
// venue's answer matched back to the call. The venue's own work is in it.
func BenchmarkPlace(b *testing.B) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, APIKey: apiKey, APISecret: apiSecret})
	defer v.Close()
	ctx := context.Background()
	s, err := session.Start(ctx, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Credentials: credentials()})
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
	req := &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit, TimeInForce: schema.TIFGTC,
		Price: schema.MustParseDecimal("1000.00"), Qty: schema.MustParseDecimal("0.01")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Place(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
