package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// OKX's books, books-l2-tbt and books50-l2-tbt pushes carry seqId and
// prevSeqId together (OKX API v5, "Order book channel": prevSeqId is the
// seqId of the previous push of the channel, -1 in a snapshot). An update
// that sends one without the other — prevSeqId absent, null or -1 beside
// its seqId, or the reverse — cannot be checked: taken, its seqId moved the
// stream on unchecked, so a loss just before it went unseen and the book
// stayed live without the lost changes. It is a *ParseError naming the
// key; the next push then shows the loss as a gap. (An update sending
// neither, as OKX's books did before it numbered them, is still taken
// unchecked: the book's checksum, where sent, is its only check.)
func TestS27OKXUpdateIdsComeInPairs(t *testing.T) {
	const snap = `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["101","1","0","1"]],"bids":[["100","1","0","1"]],"ts":"1597026383085","checksum":0,"prevSeqId":-1,"seqId":10}]}`
	next := `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["99","2","0","1"]],"ts":"1597026383087","checksum":0,"prevSeqId":12,"seqId":13}]}`
	for _, c := range []struct{ name, ids, field string }{
		{"prevSeqId -1", `"prevSeqId":-1,"seqId":12`, "prevSeqId"},
		{"prevSeqId null", `"prevSeqId":null,"seqId":12`, "prevSeqId"},
		{"prevSeqId absent", `"seqId":12`, "prevSeqId"},
		{"seqId null", `"prevSeqId":11,"seqId":null`, "seqId"},
		{"seqId absent", `"prevSeqId":11`, "seqId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			sink := &recSink{events: events}
			p := NewOKX(events, sink, nil)
			ctx := context.Background()
			require.NoError(t, p.HandleBytes(ctx, []byte(snap), 1))
			// Update 11 is lost; 12 comes with half its ids.
			half := `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["102","1","0","1"]],"bids":[],"ts":"1597026383086","checksum":0,` + c.ids + `}]}`
			err := p.HandleBytes(ctx, []byte(half), 1)
			requireParseError(t, err, c.field, ErrMissingField)
			require.NoError(t, p.HandleBytes(ctx, []byte(next), 1))
			var gaps, updates int
			for _, ev := range sink.got {
				switch ev.Type {
				case schema.EventGap:
					gaps++
				case schema.EventBookUpdate:
					updates++
				}
			}
			assert.Equal(t, 1, gaps, "the loss before the half-numbered update is announced")
			assert.Equal(t, 1, updates, "only the numbered update is published")
		})
	}
}
