package schema_test

import (
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkS24ParseDecimal parses the venue's usual shapes: Binance's fixed
// 8 decimals, a short price, a meme-coin price, an exponent (Kraken v2's
// JSON numbers may carry one).
func BenchmarkS24ParseDecimal(b *testing.B) {
	in := [][]byte{[]byte("672.00000000"), []byte("67321.45"), []byte("0.000000012345"), []byte("1.2e-05")}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range in {
			if _, err := schema.ParseDecimalBytes(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}
