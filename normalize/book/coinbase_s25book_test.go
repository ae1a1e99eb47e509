package book

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Coinbase Advanced Trade numbers a connection's messages from 0 across
// every channel. The level2 snapshot that opens the connection is 0; the
// loss of message 1 — an update of either product — shows only as the
// jump to 2, and must invalidate every book the connection feeds (no
// checksum would ever tell).
func TestCoinbaseLostFirstUpdateInvalidatesBooks(t *testing.T) {
	p, bks := cbBooks(t, nil)
	frame, ev := cbL2Frame, cbL2Event
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, frame(0, ev("snapshot", "BTC-USD", "bid", "100")+","+ev("snapshot", "ETH-USD", "bid", "10")), 1))
	require.True(t, bks[0].Live())
	require.True(t, bks[1].Live())
	// Message 1 (an ETH-USD update) is lost; 2 is a BTC-USD update.
	require.NoError(t, p.HandleBytes(ctx, frame(2, ev("update", "BTC-USD", "offer", "101")), 2))
	require.False(t, bks[0].Live(), "a book fed past a lost message stayed live")
	require.False(t, bks[1].Live(), "a book fed past a lost message stayed live")
}

// cbBooks returns a Coinbase parser feeding, through Books, the books of
// BTC-USD and ETH-USD (with o's options, and their sink).
func cbBooks(t *testing.T, o *Options) (*normalize.Parser, []*Book) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	books := NewBooks(sink, events, nil)
	var opts Options
	if o != nil {
		opts = *o
	}
	opts.Sink, opts.Events = sink, events
	var bks []*Book
	for _, sym := range []string{"BTC-USD", "ETH-USD"} {
		b, err := NewBook(Coinbase, sym, &opts)
		require.NoError(t, err)
		books.Add(b)
		bks = append(bks, b)
	}
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse) })
	return normalize.NewCoinbase(events, books, nil), bks
}

// cbL2Frame is an Advanced Trade l2_data frame of the events given.
func cbL2Frame(seq int, events string) []byte {
	return fmt.Appendf(nil, `{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[%s]}`, seq, events)
}

// cbL2Event is one l2_data event of one level of quantity 1.
func cbL2Event(typ, product, side, price string) string {
	return fmt.Sprintf(`{"type":"%s","product_id":"%s","updates":[{"side":"%s","event_time":"2023-02-09T20:32:50.714964Z","price_level":"%s","new_quantity":"1"}]}`, typ, product, side, price)
}
