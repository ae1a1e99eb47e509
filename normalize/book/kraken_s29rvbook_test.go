package book

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// Reported by s29book, confirmed here (the parser's, not this package's):
// Kraken v2 book messages do not name their depth, and the parser learns
// it only from the subscription's ack (normalize/kraken.go:624,
// krState.bookAck). A book whose ack the parser did not see — the
// subscription made before the parser was attached, a recording or a
// relay that starts after it, an ack without "depth" — gets Depth 0 on
// every message; a Depth 0 KrakenV2 rule (follow the view) then keeps
// every level, a level pushed out of the 10-level view comes back into
// the top 10 when a better one goes, and the venue's good checksum fails:
// the book resyncs for nothing. With the ack fed first it holds.
func TestS29RVKrakenV2DepthOnlyFromAck(t *testing.T) {
	for _, acked := range []bool{true, false} {
		rule := KrakenV2
		rule.Depth = 0
		rule.PriceScale, rule.QtyScale = 1, 8
		x := newPipe(t, normalize.NewKraken, rule, "BTC-USD", nil)
		if acked {
			x.feed(t, `{"method":"subscribe","req_id":11,"result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`)
		}
		var asks, bids [][2]string
		for i := range 10 {
			asks = append(asks, [2]string{fmt.Sprintf("%d.1", 50001+i), "0.5"})
			bids = append(bids, [2]string{fmt.Sprintf("%d.0", 50000-i), "1"})
		}
		sum := func(a, b [][2]string) uint32 { return krakenSum(padLevels(a, 1, 8), padLevels(b, 1, 8)) }
		x.feed(t, fmt.Sprintf(`{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":%s,"asks":%s,"checksum":%d}]}`,
			krV2Levels(bids), krV2Levels(asks), sum(asks, bids)))
		require.True(t, x.b.Live())
		// A better ask pushes the 10th out of the view (no delete is sent)…
		asks2 := append([][2]string{{"50000.5", "0.25"}}, asks[:9]...)
		x.feed(t, fmt.Sprintf(`{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":%s,"checksum":%d,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`,
			krV2Levels(asks2[:1]), sum(asks2, bids)))
		// …then goes, and the level entering the view at the back is a new one.
		asks3 := append(append([][2]string{}, asks[:9]...), [2]string{"50020.1", "3"})
		x.feed(t, fmt.Sprintf(`{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":50000.5,"qty":0},{"price":50020.1,"qty":3}],"checksum":%d,"timestamp":"2024-05-19T16:45:24.304654Z"}]}`,
			sum(asks3, bids)))
		require.Zero(t, x.b.Stats().ChecksumErrors, "acked %v: the level pushed out of the view came back", acked)
		require.True(t, x.b.Live(), "acked %v", acked)
	}
}
