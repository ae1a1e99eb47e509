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

// s34ctOKXSum is OKX's order book checksum (API v5 "Order book channel →
// Checksum"): the best 25 bids and asks interleaved, "bid:ask" level by
// level (price:size of each, as sent), the longer side's rest appended,
// joined by ":"; the CRC32 of that string as a signed 32-bit integer.
func s34ctOKXSum(bids, asks [][2]string) int32 {
	var parts []string
	for i := 0; i < 25; i++ {
		if i < len(bids) {
			parts = append(parts, bids[i][0], bids[i][1])
		}
		if i < len(asks) {
			parts = append(parts, asks[i][0], asks[i][1])
		}
	}
	return int32(crc32.ChecksumIEEE([]byte(strings.Join(parts, ":"))))
}

func s34ctOKXBook(channel, action string, prev, seq int64, bids, asks [][2]string, sum int32) string {
	side := func(ls [][2]string) string {
		var out []string
		for _, l := range ls {
			out = append(out, fmt.Sprintf(`[%q,%q,"0","3"]`, l[0], l[1]))
		}
		return strings.Join(out, ",")
	}
	return fmt.Sprintf(`{"arg":{"channel":%q,"instId":"BTC-USDT"},"action":%q,"data":[{"asks":[%s],"bids":[%s],"ts":"%d","checksum":%d,"prevSeqId":%d,"seqId":%d}]}`,
		channel, action, side(asks), side(bids), 1_700_000_000_000+seq, sum, prev, seq)
}

// OKX API v5 "Order book channel", for books and books-l2-tbt alike: the
// snapshot's prevSeqId is -1; then prevSeqId = previous seqId; "if no
// updates … seqId and prevSeqId are the same" (a keep-alive, no change);
// after maintenance "seqId may be smaller than prevSeqId … treat it as
// normal" (a reset); each push's checksum is of the venue's book after
// it — the wire digits, trailing zeros kept ("100.10" is not "100.1"),
// signed. Through snapshot, update, keep-alive, reset and update the
// host's book must equal the venue's at every step with no marker; a push
// whose checksum the book does not match (a change the book never saw)
// must stop it serving at once, announced, resubscribed.
func TestS34ctOKXSeqAndChecksumBothChannels(t *testing.T) {
	for _, channel := range []string{"books", "books-l2-tbt"} {
		t.Run(channel, func(t *testing.T) {
			w := newS31ctWireBook(t, book.OKX, "BTC-USDT", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
				return normalize.NewOKX(p.Events, s, nil)
			})
			bids := [][2]string{{"100.10", "1.50"}, {"100.00", "2"}, {"99.90", "0.010"}}
			asks := [][2]string{{"100.20", "3.0"}, {"100.30", "4"}}
			negative := false
			send := func(action string, prev, seq int64, db, da [][2]string) {
				t.Helper()
				sum := s34ctOKXSum(bids, asks)
				negative = negative || sum < 0
				require.NoError(t, w.feed(s34ctOKXBook(channel, action, prev, seq, db, da, sum)))
			}
			want := func() string {
				var b, a []string
				for _, l := range bids {
					b = append(b, l[0]+"x"+l[1])
				}
				for _, l := range asks {
					a = append(a, l[0]+"x"+l[1])
				}
				return strings.Join(b, " ") + " | " + strings.Join(a, " ")
			}
			send("snapshot", -1, 1000, bids, asks)
			assert.Equal(t, want(), w.levels(50), "the snapshot")

			bids = [][2]string{{"100.10", "1.25"}, {"100.00", "2"}, {"99.90", "0.010"}}
			send("update", 1000, 1001, [][2]string{{"100.10", "1.25"}}, nil)
			assert.Equal(t, want(), w.levels(50), "an update")

			send("update", 1001, 1001, nil, nil)
			assert.Equal(t, want(), w.levels(50), "a keep-alive")

			asks = [][2]string{{"100.20", "3.0"}, {"100.30", "4"}, {"100.40", "5.00"}}
			send("update", 1001, 17, nil, [][2]string{{"100.40", "5.00"}})
			assert.Equal(t, want(), w.levels(50), "a reset after maintenance")

			bids = [][2]string{{"100.00", "2"}, {"99.90", "0.010"}}
			send("update", 17, 18, [][2]string{{"100.10", "0"}}, nil)
			assert.Equal(t, want(), w.levels(50), "an update after the reset")
			assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
			assert.Zero(t, w.b.Stats().ChecksumErrors)
			require.True(t, negative, "a negative checksum among them")

			// The venue's book lost its 99.90 bid in a push we never got;
			// this push's checksum is of that book.
			lost := [][2]string{{"100.00", "2"}}
			_ = w.feed(s34ctOKXBook(channel, "update", 18, 19, [][2]string{{"100.00", "2.5"}}, nil,
				s34ctOKXSum([][2]string{{"100.00", "2.5"}, lost[0]}[:1], asks)))
			assert.Equal(t, "not live", w.levels(50), "a book its checksum proves wrong serves nothing")
			assert.Positive(t, w.gaps())
			assert.Equal(t, 1, w.resubscribes())
		})
	}
}

// OKX "How to manage a local order book correctly", as OKX serves books
// today (no initial snapshot on the stream, an empty "snapshot" at most,
// checksum 0): buffer the updates, take the snapshot from GET
// /api/v5/market/books (its seqId), drop the updates whose seqId it
// covers, apply the first with prevSeqId ≤ the snapshot's seqId < its
// seqId, then chain by prevSeqId. The empty snapshot serves nothing; the
// updates before the REST snapshot (which would put back an old 100.0
// bid of 9) leave no trace; a keep-alive changes nothing.
func TestS34ctOKXFetchBridgesTheRESTSnapshot(t *testing.T) {
	rest := newS34ctDepthREST(t, `{"code":"0","msg":"","data":[{"asks":[["101.0","1","0","1"],["102.0","2","0","1"]],"bids":[["100.0","1","0","1"],["99.0","2","0","1"]],"ts":"1700000000100","seqId":100}]}`)
	w := &s31ctWireBook{t: t, pools: schema.NewPools(nil), ts: 1_700_000_000_000_000_000}
	w.sink = &s29ctBookSink{events: w.pools.Events}
	w.books = book.NewBooks(w.sink, w.pools.Events, nil)
	t.Cleanup(w.books.Close)
	b, err := book.NewBook(book.OKXFetch, "BTC-USDT", &book.Options{Sink: w.sink, Events: w.pools.Events,
		Fetcher: &book.OKXREST{BaseURL: rest.srv.URL, Client: rest.srv.Client()}})
	require.NoError(t, err)
	w.books.Add(b)
	w.b = b
	w.parser = normalize.NewOKX(w.pools.Events, w.books, nil)

	lv := func(px, sz string) [][2]string { return [][2]string{{px, sz}} }
	require.NoError(t, w.feed(s34ctOKXBook("books", "snapshot", -1, 95, nil, nil, 0)))
	assert.Equal(t, "not live", w.levels(10), "the empty snapshot is no book")
	for _, m := range []string{
		s34ctOKXBook("books", "update", 95, 98, lv("100.0", "9"), nil, 0),
		s34ctOKXBook("books", "update", 98, 103, lv("99.5", "3"), nil, 0),
		s34ctOKXBook("books", "update", 103, 105, nil, lv("102.0", "0"), 0),
		s34ctOKXBook("books", "update", 105, 105, nil, nil, 0),
	} {
		require.NoError(t, w.feed(m), "%s", m)
	}
	assert.Equal(t, "100.0x1 99.5x3 99.0x2 | 101.0x1", w.levels(10))
	assert.Equal(t, uint64(105), w.b.LastSeq())
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
	asked := rest.asked()
	require.Len(t, asked, 1, "%v", asked)
	assert.True(t, strings.HasPrefix(asked[0], "/api/v5/market/books?"), asked[0])
	assert.Contains(t, asked[0], "instId=BTC-USDT")
}

// OKX "Checksum": "when the bid and ask depth data exceeds 25 levels,
// each of them will intercept 25 levels of data"; "when the bid or ask
// depth data is less than 25 levels, the missing depth data will be
// ignored" — a side of 3 bids against 30 asks interleaves 3 pairs, then
// asks 4–25 alone. A book that checks the venue's checksum over such a
// lopsided book must find it equal (live, no resync) and find a change
// below the 25th ask invisible to it (still live).
func TestS34ctOKXChecksumLopsidedBook(t *testing.T) {
	w := newS31ctWireBook(t, book.OKX, "BTC-USDT", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewOKX(p.Events, s, nil)
	})
	bids := [][2]string{{"99.9", "1"}, {"99.8", "2"}, {"99.7", "3"}}
	var asks [][2]string
	for i := 0; i < 30; i++ {
		asks = append(asks, [2]string{fmt.Sprintf("%d.5", 100+i), fmt.Sprintf("0.%02d", i+1)})
	}
	require.NoError(t, w.feed(s34ctOKXBook("books", "snapshot", -1, 10, bids, asks, s34ctOKXSum(bids, asks))))
	require.True(t, w.b.Live(), "live on a snapshot whose checksum is the venue's")
	asks[27][1] = "7"
	require.NoError(t, w.feed(s34ctOKXBook("books", "update", 10, 11, nil, [][2]string{asks[27]}, s34ctOKXSum(bids, asks))))
	asks = append(asks[:1], asks[2:]...)
	require.NoError(t, w.feed(s34ctOKXBook("books", "update", 11, 12, nil, [][2]string{{"101.5", "0"}}, s34ctOKXSum(bids, asks))))
	assert.True(t, w.b.Live())
	assert.Zero(t, w.b.Stats().ChecksumErrors)
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
	assert.Equal(t, "99.9x1 99.8x2 | 100.5x0.01 102.5x0.03", w.levels(2))
}
