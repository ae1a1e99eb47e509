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
// stale level kept", books that know when they are wrong): a book message
// without its bid or ask array, or without the field that tells a snapshot
// from an update, is not the venue's documented shape. Bybit refuses a
// snapshot without "b" (*ParseError, "field b: missing field"); OKX,
// Kraken v2 and Coinbase (Exchange, and Advanced Trade without "updates")
// take it as an empty side, and the book
// goes live without the levels no later update touches (OKX's checksum is
// 0, "not sent", since 2026, so nothing catches it). A Bybit orderbook
// message without "type" is taken as a snapshot (the book is reset to a
// delta's few levels, live; Bybit sends no checksum); OKX without
// "action" and Kraken v2 without "type" as updates.
func TestAuditBookSnapshotMissingSides(t *testing.T) {
	parsers := map[string]func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser{
		"okx": normalize.NewOKX, "bybit": normalize.NewBybit, "kraken": normalize.NewKraken, "coinbase": normalize.NewCoinbase,
	}
	for _, c := range []struct{ name, venue, msg string }{
		{"okx snapshot without sides", "okx", `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"ts":"1","checksum":0,"seqId":5,"prevSeqId":-1}]}`},
		{"bybit snapshot without sides", "bybit", `{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","u":1,"seq":1},"cts":1}`},
		{"kraken snapshot without sides", "kraken", `{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","checksum":0}]}`},
		{"coinbase snapshot without sides", "coinbase", `{"type":"snapshot","product_id":"BTC-USD"}`},
		{"coinbase advanced snapshot without updates", "coinbase", `{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD"}]}`},
		{"bybit without type", "bybit", `{"topic":"orderbook.50.BTCUSDT","ts":1,"data":{"s":"BTCUSDT","b":[["75848.62","0.014895"]],"a":[],"u":2876701,"seq":47474967823},"cts":1}`},
		{"okx without action", "okx", `{"arg":{"channel":"books","instId":"BTC-USDT"},"data":[{"asks":[["8476.98","415","0","13"]],"bids":[],"ts":"1","checksum":0,"seqId":5,"prevSeqId":4}]}`},
		{"kraken without type", "kraken", `{"channel":"book","data":[{"symbol":"BTC/USD","bids":[{"price":1.5,"qty":2}],"asks":[],"checksum":0}]}`},
	} {
		events := pool.New(c.venue, 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		var got []schema.EventType
		p := parsers[c.venue](events, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			got = append(got, ev.Type)
			events.Put(ev)
			return nil
		}), nil)
		err := p.HandleBytes(context.Background(), []byte(c.msg), 1)
		var pe *normalize.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err %v, events %v; want a *ParseError and no book event", c.name, err, got)
		}
	}
}
