package meltica_test

import (
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// s34ctKrakenLevel is one level as Kraken's v2 JSON sends it (a number,
// trailing zeros dropped) and as its checksum writes it (the pair's
// precision, the point and leading zeros removed).
type s34ctKrakenLevel struct{ px, qty, pxSum, qtySum string }

// s34ctKrakenV2Sum is Kraken Spot WebSocket v2 "Book → Checksum": for
// the top 10 asks (lowest first) then the top 10 bids (highest first),
// price and quantity "formatted to the precision of the instrument",
// the decimal point and leading zeros removed, concatenated; CRC32.
func s34ctKrakenV2Sum(bids, asks []s34ctKrakenLevel) uint32 {
	var sb strings.Builder
	for _, side := range [][]s34ctKrakenLevel{asks, bids} {
		for i, l := range side {
			if i == 10 {
				break
			}
			for _, v := range []string{l.pxSum, l.qtySum} {
				sb.WriteString(strings.TrimLeft(strings.ReplaceAll(v, ".", ""), "0"))
			}
		}
	}
	return crc32.ChecksumIEEE([]byte(sb.String()))
}

func s34ctKrakenV2Book(typ string, bids, asks []s34ctKrakenLevel, sum uint32) string {
	side := func(ls []s34ctKrakenLevel) string {
		var out []string
		for _, l := range ls {
			out = append(out, fmt.Sprintf(`{"price":%s,"qty":%s}`, l.px, l.qty))
		}
		return strings.Join(out, ",")
	}
	return fmt.Sprintf(`{"channel":"book","type":%q,"data":[{"symbol":"BTC/USD","bids":[%s],"asks":[%s],"checksum":%d,"timestamp":"2023-10-06T17:35:55.440295Z"}]}`,
		typ, side(bids), side(asks), sum)
}

// BTC/USD's precision is 1 for prices and 8 for quantities (v2
// "instrument": price_precision 1, qty_precision 8). Kraken's v2 JSON
// numbers drop what the checksum keeps: 45283 is 45283.0 there, 0.1 is
// 0.10000000, 2 is 2.00000000. A book told nothing of the precision
// (normalize/book doc: it "learns the precision from the venue's
// checksum of a snapshot (v2)") must go live on that snapshot — a good
// book is never resynced for its digits — and check every update after
// it at that precision: the updates keep it live and equal to the
// venue's, and one whose checksum shows a change the book never saw
// stops it serving.
func TestS34ctKrakenV2ChecksumAtTheInstrumentsPrecision(t *testing.T) {
	w := newS31ctWireBook(t, book.KrakenV2, "BTC-USD", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewKraken(p.Events, s, nil)
	})
	lv := func(px, qty string) s34ctKrakenLevel {
		pxSum := px
		if !strings.Contains(pxSum, ".") {
			pxSum += ".0"
		}
		q := qty
		if !strings.Contains(q, ".") {
			q += "."
		}
		q += strings.Repeat("0", 8-(len(q)-strings.Index(q, ".")-1))
		return s34ctKrakenLevel{px: px, qty: qty, pxSum: pxSum, qtySum: q}
	}
	bids := []s34ctKrakenLevel{lv("45283", "0.1"), lv("45282.5", "2"), lv("45282", "1.5")}
	asks := []s34ctKrakenLevel{lv("45284", "0.25"), lv("45285.5", "3")}
	require.NoError(t, w.feed(s34ctKrakenV2Book("snapshot", bids, asks, s34ctKrakenV2Sum(bids, asks))))
	assert.Equal(t, "45283x0.1 45282.5x2 45282x1.5 | 45284x0.25 45285.5x3", w.levels(10), "live on the snapshot")

	bids = []s34ctKrakenLevel{lv("45283", "0.1"), lv("45282.5", "2"), lv("45282", "1.5")}
	asks = []s34ctKrakenLevel{lv("45284", "0.5"), lv("45285.5", "3")}
	require.NoError(t, w.feed(s34ctKrakenV2Book("update", nil, []s34ctKrakenLevel{lv("45284", "0.5")}, s34ctKrakenV2Sum(bids, asks))))
	bids = []s34ctKrakenLevel{lv("45283.5", "4"), lv("45283", "0.1"), lv("45282.5", "2"), lv("45282", "1.5")}
	require.NoError(t, w.feed(s34ctKrakenV2Book("update", []s34ctKrakenLevel{lv("45283.5", "4")}, nil, s34ctKrakenV2Sum(bids, asks))))
	assert.Equal(t, "45283.5x4 45283x0.1 45282.5x2 45282x1.5 | 45284x0.5 45285.5x3", w.levels(10))
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
	assert.Zero(t, w.resubscribes())
	assert.Zero(t, w.b.Stats().ChecksumErrors)

	// The venue's 45282 bid left in an update we never got.
	venue := bids[:3]
	_ = w.feed(s34ctKrakenV2Book("update", nil, []s34ctKrakenLevel{lv("45285.5", "2")},
		s34ctKrakenV2Sum(venue, []s34ctKrakenLevel{lv("45284", "0.5"), lv("45285.5", "2")})))
	assert.Equal(t, "not live", w.levels(10), "a book its checksum proves wrong serves nothing")
	assert.Equal(t, 1, w.resubscribes())
}
