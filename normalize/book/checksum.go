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
	// each price and quantity with the decimal point removed and leading
	// zeros stripped, concatenated without separators. Kraken v1 sends
	// prices and quantities as strings, so the wire digits are the text;
	// v2 sends JSON numbers, whose text drops trailing zeros, so v2 pads
	// them to the instrument's precision first (Rule.PriceScale and
	// Rule.QtyScale).
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
			buf = appendKraken(buf, b.asks.at(i), &b.rule)
		}
		for i := range min(n, b.bids.len()) {
			buf = appendKraken(buf, b.bids.at(i), &b.rule)
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

func appendKraken(buf []byte, l schema.Level, r *Rule) []byte {
	buf = appendKrakenNumber(buf, l.Price, r.PriceScale)
	return appendKrakenNumber(buf, l.Qty, r.QtyScale)
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
