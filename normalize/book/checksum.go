package book

import (
	"hash/crc32"

	"github.com/meltica/meltica/schema"
)

// Checksum says how a venue checksums its book. The venues that send one
// compute a CRC32 (IEEE) over a text made from the top levels in the digits
// they sent, which is why [schema.Decimal] keeps them.
type Checksum uint8

// Checksum kinds.
const (
	// ChecksumNone: the venue sends no checksum (Binance, Bybit, Coinbase).
	ChecksumNone Checksum = iota
	// ChecksumOKX: the top 25 levels interleaved,
	// "bid1price:bid1size:ask1price:ask1size:…" (a side that runs out
	// simply stops contributing), compared as a signed 32-bit integer.
	ChecksumOKX
	// ChecksumKraken: the top 10 asks (best first), then the top 10 bids,
	// each price and quantity at the pair's full precision with the
	// decimal point removed and leading zeros stripped, concatenated
	// without separators (Kraken "Spot Websockets (v1) Book Checksum",
	// "(v2) Book Checksum"). A value may reach the book with fewer digits
	// after the point than the pair's precision: v2 sends JSON numbers,
	// which may drop trailing zeros (the docs' own snapshot: "price":
	// 0.566 on a pair of 4 decimals), and a schema.Decimal holds a value
	// past its 63-bit mantissa without its trailing zeros (a v1 volume
	// "100000000000.00000000"). So the book writes every price and
	// quantity at its precision: Rule.PriceScale and Rule.QtyScale when
	// the host knows them (the v2 "instrument" channel's price_precision
	// and qty_precision), at least the most digits it has seen a price
	// or quantity of the book's top levels sent, and — when a snapshot's
	// own checksum (v2) does not match at those — the one precision, up
	// to schema.MaxScale, at which the venue's checksum of that snapshot
	// matches, learned for the book's later checks. An update's checksum
	// (v1 snapshots carry none) teaches no precision beyond the digits
	// shown: a lost update may explain its mismatch as well. A checksum
	// that no precision explains is a mismatch.
	ChecksumKraken
)

// sum computes the checksum of b for kind c into scratch, which it returns
// for reuse (so that a steady-state check allocates nothing).
func (c Checksum) sum(b *Book, scratch []byte) (uint32, []byte) {
	buf := scratch[:0]
	switch c {
	case ChecksumOKX:
		n := b.rule.ChecksumDepth
		for i := range n {
			if i < b.bids.len() {
				l := b.bids.at(i)
				buf = appendOKX(buf, l)
			}
			if i < b.asks.len() {
				l := b.asks.at(i)
				buf = appendOKX(buf, l)
			}
		}
		if len(buf) > 0 {
			buf = buf[:len(buf)-1] // the last ':'
		}
	case ChecksumKraken:
		n := b.rule.ChecksumDepth
		for i := range min(n, b.asks.len()) {
			buf = appendKraken(buf, b.asks.at(i), b.ck.px, b.ck.qty)
		}
		for i := range min(n, b.bids.len()) {
			buf = appendKraken(buf, b.bids.at(i), b.ck.px, b.ck.qty)
		}
	default:
		return 0, buf
	}
	return crc32.ChecksumIEEE(buf), buf
}

func appendOKX(buf []byte, l schema.Level) []byte {
	buf = l.Price.AppendTo(buf)
	buf = append(buf, ':')
	buf = l.Qty.AppendTo(buf)
	return append(buf, ':')
}

func appendKraken(buf []byte, l schema.Level, px, qty int) []byte {
	buf = appendKrakenNumber(buf, l.Price, px)
	return appendKrakenNumber(buf, l.Qty, qty)
}

// ckScales is the precision a Kraken checksum writes a book's prices and
// quantities at (ChecksumKraken), whether a checksum matched at it since
// the latest snapshot, and whether the book is the snapshot just loaded,
// not yet checked (whose checksum alone may teach a precision).
type ckScales struct {
	px, qty int
	sure    bool
	snap    bool
}

// topScales returns the most digits after the point of the prices and of
// the quantities among the levels a checksum covers.
func (b *Book) topScales() (px, qty int) {
	n := b.rule.ChecksumDepth
	for _, s := range [2]*side{&b.asks, &b.bids} {
		for i := range min(n, s.len()) {
			l := s.at(i)
			px, qty = max(px, l.Price.Scale()), max(qty, l.Qty.Scale())
		}
	}
	return px, qty
}

// checksumLocked computes the book's checksum for its rule, a Kraken
// book's at the precision it knows (see ChecksumKraken), raised to the
// most digits its top levels show.
func (b *Book) checksumLocked() uint32 {
	if b.rule.Checksum == ChecksumKraken {
		px, qty := b.topScales()
		b.ck.px, b.ck.qty = max(b.ck.px, px), max(b.ck.qty, qty)
	}
	var sum uint32
	sum, b.scratch = b.rule.Checksum.sum(b, b.scratch)
	return sum
}

// learnScales looks, for a Kraken book whose checksum has not matched
// since its latest snapshot, for the precision at which the book's
// checksum is want. Over a snapshot's own checksum (v2), whose book is
// the venue's, it searches prices and quantities from the most digits the
// top levels show up to schema.MaxScale; its cost (up to 19 × 19
// checksums of the top levels, BenchmarkKrakenSnapshotChecksum) is paid
// once a snapshot at most. Over an update's (v1 snapshots carry none), a
// lost update explains a mismatch as well as the precision does — one
// digit further, a quantity ten times off can read as the venue's — so it
// tries only the digits the top levels show (the venue's v1 text is at
// the pair's precision), which corrects a Rule.PriceScale or QtyScale set
// too high. It keeps the one found and reports whether there was one.
func (b *Book) learnScales(want uint32) bool {
	if b.rule.Checksum != ChecksumKraken || b.ck.sure {
		return false
	}
	was := b.ck
	px0, qty0 := b.topScales()
	pxN, qtyN := px0, qty0 // an update's: the digits shown only
	if was.snap {
		pxN, qtyN = schema.MaxScale, schema.MaxScale
	}
	for px := px0; px <= pxN; px++ {
		for qty := qty0; qty <= qtyN; qty++ {
			if px == was.px && qty == was.qty {
				continue // tried
			}
			b.ck.px, b.ck.qty = px, qty
			var sum uint32
			if sum, b.scratch = b.rule.Checksum.sum(b, b.scratch); sum == want {
				return true
			}
		}
	}
	b.ck = was
	return false
}

// appendKrakenNumber appends d's digits, padded with trailing zeros to scale
// when d has fewer (Kraken v2), without the point and without leading zeros.
func appendKrakenNumber(buf []byte, d schema.Decimal, scale int) []byte {
	start := len(buf)
	buf = d.AppendTo(buf)
	for k := d.Scale(); k < scale; k++ {
		buf = append(buf, '0')
	}
	// Drop the point and the leading zeros in place.
	w := start
	lead := true
	for _, c := range buf[start:] {
		if c == '.' || (lead && c == '0') {
			continue
		}
		lead = false
		buf[w] = c
		w++
	}
	return buf[:w]
}
