package wire

import (
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/schema"
)

// The bridge's encoding was chosen by these benchmarks: the binary layout
// against goccy/go-json on the same events, encode and decode, with the
// message size reported as bytes/msg. A trade is the common case; "full"
// has every section set (the worst case for the binary mask, the case JSON
// pays most for its field names).
func benchEvents() map[string]*schema.CanonicalEvent {
	full := &schema.CanonicalEvent{}
	fixture.Full(full, 1)
	trade := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade,
		SeqProvider: 4_200_000_123, ExchangeTS: 1_700_000_000_123_000_000, IngestTS: 1_700_000_000_123_456_789}
	trade.Trade = schema.Trade{ID: schema.MustID("4200000123"), Price: schema.MustParseDecimal("65000.10000000"),
		Qty: schema.MustParseDecimal("0.00120000"), Side: schema.SideBuy}
	book := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookUpdate,
		SeqProvider: 9_000_020, ExchangeTS: 1_700_000_000_123_000_000, IngestTS: 1_700_000_000_123_456_789}
	for i := range 10 {
		book.Book.Bids = append(book.Book.Bids, schema.Level{Price: schema.NewDecimal(6500000000000-int64(i)*1000000, 8), Qty: schema.NewDecimal(int64(i)*1234567, 8)})
		book.Book.Asks = append(book.Book.Asks, schema.Level{Price: schema.NewDecimal(6500010000000+int64(i)*1000000, 8), Qty: schema.NewDecimal(int64(i)*7654321, 8)})
	}
	book.Book.FirstSeq, book.Book.LastSeq = 9_000_001, 9_000_020
	return map[string]*schema.CanonicalEvent{"trade": trade, "book10": book, "full": full}
}

func BenchmarkEncode(b *testing.B) {
	for name, ev := range benchEvents() {
		b.Run("binary/"+name, func(b *testing.B) {
			b.ReportAllocs()
			buf := Append(nil, ev, 1)
			for b.Loop() {
				buf = Append(buf[:0], ev, 1)
			}
			b.ReportMetric(float64(len(buf)), "bytes/msg")
		})
		b.Run("json/"+name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf, _ = json.Marshal(ev)
			}
			b.ReportMetric(float64(len(buf)), "bytes/msg")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for name, ev := range benchEvents() {
		b.Run("binary/"+name, func(b *testing.B) {
			b.ReportAllocs()
			buf := Append(nil, ev, 1)
			var d Decoder
			dst := pooledEvent(b) // as the consumer decodes: sections from the storage the event keeps
			for b.Loop() {
				dst.Reset()
				if _, err := d.Decode(buf, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("json/"+name, func(b *testing.B) {
			b.ReportAllocs()
			buf, err := json.Marshal(ev)
			if err != nil {
				b.Fatal(err)
			}
			dst := &schema.CanonicalEvent{}
			for b.Loop() {
				dst.Reset()
				if err := json.Unmarshal(buf, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestJSONRoundTrip keeps the comparison honest: goccy JSON carries the same
// event intact (so the benchmark compares like with like).
func TestJSONRoundTrip(t *testing.T) {
	for name, ev := range benchEvents() {
		buf, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(name, err)
		}
		got := &schema.CanonicalEvent{}
		if err := json.Unmarshal(buf, got); err != nil {
			t.Fatal(name, err)
		}
		if !assert.ObjectsAreEqual(ev.Clone(), got.Clone()) {
			t.Errorf("%s: JSON round trip differs", name)
		}
	}
}
