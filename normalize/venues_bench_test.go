package normalize

import (
	"context"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/meltica/meltica/schema"
)

// Plain structs for the baseline: a bare goccy Unmarshal of the same
// trade frame, before any of our work (symbols, decimals, times, pooling).
type (
	plainCoinbaseTrades struct {
		Channel string `json:"channel"`
		TS      string `json:"timestamp"`
		Seq     int64  `json:"sequence_num"`
		Events  []struct {
			Type   string `json:"type"`
			Trades []struct {
				ID, Product, Price, Size, Side, Time string
			} `json:"trades"`
		} `json:"events"`
	}
	plainKrakenTrades struct {
		Channel string `json:"channel"`
		Type    string `json:"type"`
		Data    []struct {
			Symbol    string      `json:"symbol"`
			Side      string      `json:"side"`
			Price     json.Number `json:"price"`
			Qty       json.Number `json:"qty"`
			OrdType   string      `json:"ord_type"`
			TradeID   int64       `json:"trade_id"`
			Timestamp string      `json:"timestamp"`
		} `json:"data"`
	}
	plainOKXTrades struct {
		Arg struct {
			Channel string `json:"channel"`
			InstID  string `json:"instId"`
		} `json:"arg"`
		Data []struct {
			InstID, TradeID, Px, Sz, Side, Ts, Count string
		} `json:"data"`
	}
	plainBybitTrades struct {
		Topic string `json:"topic"`
		Type  string `json:"type"`
		Ts    int64  `json:"ts"`
		Data  []struct {
			T    int64  `json:"T"`
			Sym  string `json:"s"`
			Side string `json:"S"`
			V    string `json:"v"`
			P    string `json:"p"`
			L    string `json:"L"`
			I    string `json:"i"`
			BT   bool   `json:"BT"`
			Seq  int64  `json:"seq"`
		} `json:"data"`
	}
)

// BenchmarkVenues measures the whole normalize step of each venue's
// trades, best bid/offer or ticker, and 20-level book diffs, next to a
// bare goccy Unmarshal of the same trade frame.
//
//	go test -run '^$' -bench BenchmarkVenues -benchmem ./normalize/
func BenchmarkVenues(b *testing.B) {
	plain := map[schema.Venue]func() any{
		cb: func() any { return new(plainCoinbaseTrades) },
		kr: func() any { return new(plainKrakenTrades) },
		ox: func() any { return new(plainOKXTrades) },
		by: func() any { return new(plainBybitTrades) },
	}
	trades := map[schema.Venue]string{cb: "market_trades", kr: "trade", ox: "trades", by: "publicTrade"}
	for _, c := range venueAllocCases {
		msg := c.msg(b)
		b.Run(string(c.venue)+"/"+c.name, func(b *testing.B) {
			events := schema.NewPools(nil).Events
			p := newVenueParser(c.venue, events, &putSink{events: events})
			ctx := context.Background()
			if err := p.HandleBytes(ctx, msg, 1); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := p.HandleBytes(ctx, msg, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
		if trades[c.venue] != c.name {
			continue
		}
		b.Run(string(c.venue)+"/"+c.name+" goccy baseline", func(b *testing.B) {
			v := plain[c.venue]()
			if err := json.Unmarshal(msg, v); err != nil { // compile the type first
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := json.Unmarshal(msg, plain[c.venue]()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
