package normalize_test

import (
	"context"
	"errors"
	"testing"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Audit of issue 8 ("typed errors" for each venue) and issue 9 ("never a
// stale level kept", books that know when they are wrong): a book
// snapshot without its bid or ask array is not the venue's documented
// shape. Bybit refuses it (*ParseError, "field b: missing field"); OKX,
// Kraken v2 and Coinbase Exchange take it as an empty side, and the book
// goes live without the levels no later update touches (OKX's checksum is
// 0, "not sent", since 2026, so nothing catches it).
func TestAuditBookSnapshotMissingSides(t *testing.T) {
	t.Skip("audit: OKX books, Kraken v2 book and Coinbase Exchange snapshots without bids/asks give an empty book_snapshot instead of a *ParseError (Bybit refuses); reported to lead")
	type mk func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink) *normalize.Parser
	for _, c := range []struct {
		venue string
		mk    mk
		msg   string
	}{
		{"okx", func(p *pool.Pool[*schema.CanonicalEvent], s normalize.Sink) *normalize.Parser {
			return normalize.NewOKX(p, s, nil)
		},
			`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"ts":"1","checksum":0,"seqId":5,"prevSeqId":-1}]}`},
		{"bybit", func(p *pool.Pool[*schema.CanonicalEvent], s normalize.Sink) *normalize.Parser {
			return normalize.NewBybit(p, s, nil)
		},
			`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","u":1,"seq":1},"cts":1}`},
		{"kraken", func(p *pool.Pool[*schema.CanonicalEvent], s normalize.Sink) *normalize.Parser {
			return normalize.NewKraken(p, s, nil)
		},
			`{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","checksum":0}]}`},
		{"coinbase", func(p *pool.Pool[*schema.CanonicalEvent], s normalize.Sink) *normalize.Parser {
			return normalize.NewCoinbase(p, s, nil)
		},
			`{"type":"snapshot","product_id":"BTC-USD"}`},
	} {
		events := pool.New(c.venue, 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		var got []schema.EventType
		p := c.mk(events, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			got = append(got, ev.Type)
			events.Put(ev)
			return nil
		}))
		err := p.HandleBytes(context.Background(), []byte(c.msg), 1)
		var pe *normalize.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err %v, events %v; want a *ParseError and no snapshot", c.venue, err, got)
		}
	}
}
