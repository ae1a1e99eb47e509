package meltica_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// s30ctOKXBook feeds an OKX "books" book messages (no checksum: OKX sends
// 0, "not sent") and reports its gap markers.
type s30ctOKXBook struct {
	t      *testing.T
	pools  *schema.Pools
	sink   *s29ctBookSink
	b      *book.Book
	resubs int
}

func newS30ctOKXBook(t *testing.T) *s30ctOKXBook {
	x := &s30ctOKXBook{t: t, pools: schema.NewPools(nil)}
	x.sink = &s29ctBookSink{events: x.pools.Events}
	b, err := book.NewBook(book.OKX, "BTC-USDT", &book.Options{Sink: x.sink, Events: x.pools.Events,
		Resubscribe: func(context.Context, schema.Venue, string) error { x.resubs++; return nil }})
	require.NoError(t, err)
	x.b = b
	return x
}

func (x *s30ctOKXBook) apply(typ schema.EventType, prev, seq uint64, bids, asks [][2]string) {
	x.t.Helper()
	ctx := context.Background()
	ev, err := x.pools.Events.Get(ctx)
	require.NoError(x.t, err)
	defer x.pools.Events.Put(ev)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueOKX, "BTC-USDT", typ
	ev.SeqProvider = seq
	ev.ExchangeTS, ev.IngestTS = 1_700_000_000_000_000_000+int64(seq), 1_700_000_000_000_000_000+int64(seq)
	ev.Book.PrevSeq, ev.Book.LastSeq, ev.Book.Depth = prev, seq, 400
	for _, l := range bids {
		ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.MustParseDecimal(l[0]), Qty: schema.MustParseDecimal(l[1])})
	}
	for _, l := range asks {
		ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.MustParseDecimal(l[0]), Qty: schema.MustParseDecimal(l[1])})
	}
	require.NoError(x.t, x.b.Apply(ctx, ev))
}

func (x *s30ctOKXBook) gaps() int {
	x.sink.mu.Lock()
	defer x.sink.mu.Unlock()
	return len(x.sink.gaps)
}

// OKX v5 "Order book channel", the documented sequence: "1. snapshot:
// prevSeqId = -1, seqId = 10; 2. incremental: prevSeqId = 10, seqId = 15;
// 3. no update (keep-alive): prevSeqId = 15, seqId = 15; 4. sequence
// reset (maintenance): prevSeqId = 15, seqId = 3; 5. incremental:
// prevSeqId = 3, seqId = 5". All continuous: no gap marker, the book
// live, each update applied.
func TestS30ctOKXDocumentedSeqIdSequence(t *testing.T) {
	x := newS30ctOKXBook(t)
	x.apply(schema.EventBookSnapshot, 0, 10, [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}})
	x.apply(schema.EventBookUpdate, 10, 15, [][2]string{{"100.5", "2"}}, nil)
	x.apply(schema.EventBookUpdate, 15, 15, nil, nil)
	x.apply(schema.EventBookUpdate, 15, 3, nil, [][2]string{{"100.8", "3"}})
	x.apply(schema.EventBookUpdate, 3, 5, [][2]string{{"100.6", "4"}}, nil)
	assert.Zero(t, x.gaps(), "%v", x.sink.gaps)
	require.True(t, x.b.Live())
	bbo, ok := x.b.BBO()
	require.True(t, ok)
	assert.Equal(t, "100.6", bbo.BidPrice.String())
	assert.Equal(t, "100.8", bbo.AskPrice.String())
	assert.Zero(t, x.resubs)
}

// A message lost just before the reset: the reset message's prevSeqId
// names a seqId the book never had (prevSeqId 20 after seqId 15; seqId
// 3 < 20). A reset is continuous only from the message it follows
// (prevSeqId = previous seqId, as in OKX's example): this is a gap — a
// marker, the book not live, a resubscription — not a silent carry-on on
// a book that misses message 20.
func TestS30ctOKXResetAfterALostMessageIsAGap(t *testing.T) {
	x := newS30ctOKXBook(t)
	x.apply(schema.EventBookSnapshot, 0, 10, [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}})
	x.apply(schema.EventBookUpdate, 10, 15, [][2]string{{"100.5", "2"}}, nil)
	// lost: prevSeqId 15, seqId 20 (the bid at 100.5 removed)
	x.apply(schema.EventBookUpdate, 20, 3, nil, [][2]string{{"100.8", "3"}})
	assert.Equal(t, 1, x.gaps(), "a gap marker")
	assert.False(t, x.b.Live(), "the book knows it is broken")
	_, ok := x.b.BBO()
	assert.False(t, ok, "and serves nothing")
	assert.Equal(t, 1, x.resubs, "one resubscription")
}

// A keep-alive is prevSeqId = seqId = the previous seqId; one that names
// another id (prevSeqId = seqId = 20 after 15) follows a lost message.
func TestS30ctOKXKeepAliveAfterALostMessageIsAGap(t *testing.T) {
	x := newS30ctOKXBook(t)
	x.apply(schema.EventBookSnapshot, 0, 10, [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}})
	x.apply(schema.EventBookUpdate, 10, 15, [][2]string{{"100.5", "2"}}, nil)
	x.apply(schema.EventBookUpdate, 20, 20, nil, nil)
	assert.Equal(t, 1, x.gaps(), "a gap marker")
	assert.False(t, x.b.Live())
}
