package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// The frame path's loss (lossMarker.onFrame) breaks the shard's books
// whatever the new connection's frame is stamped: a clock stepped back
// since the book was made good (the frame's ReceivedAt before the book's
// data), or a frame with no stamp (ReceivedAt 0). Before s39sess the loss
// was stamped ReceivedAt-1: before the book's data (or −1), so the book
// took it for news of an earlier connection (book.Book.Apply: a loss older
// than the data that made it good is ignored) and stayed live on the dead
// connection's levels.
func TestS39sessFrameLossBreaksBooksWhateverTheStamp(t *testing.T) {
	for name, at := range map[string]func() int64{
		"clock stepped back": func() int64 { return time.Now().Add(-time.Hour).UnixNano() },
		"no stamp":           func() int64 { return 0 },
		"stamp 1":            func() int64 { return 1 },
	} {
		t.Run(name, func(t *testing.T) {
			s, b, markers := frameLossBook(t, []string{"depth@100ms", "trade"}, []schema.EventType{schema.EventTrade},
				func(*schema.CanonicalEvent) bool { return true })

			sh := s.shards[0]
			sh.loss.onFrame(&schema.WsFrame{ConnID: sh.client.Stats().ConnID + 1, ReceivedAt: at()})
			assert.False(t, b.Live(), "a later connection's frame, no loss heard: the book is broken")
			select {
			case ts := <-markers:
				assert.GreaterOrEqual(t, ts, int64(0), "the trades' subscriber's marker: a stamp, or none (0), never below")
			case <-time.After(time.Minute): // a guard, not a wait
				t.Fatal("no marker for the trades' subscriber")
			}
		})
	}
}
