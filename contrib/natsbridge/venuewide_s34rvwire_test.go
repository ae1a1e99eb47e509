package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS34rvwireVenueWideMarkerCoversEveryWindow: a gap marker naming no
// symbol and no window (the Publisher's after its link came back, about a
// venue's tickers) is about every window's tickers, as dispatch covers a
// queue: the Consumer's queue forgets the kept quote of each window (24 h,
// 1 h, 4 h), and a marker naming a symbol and no type (every stream of the
// symbol) does too. Kept past the marker, a quote from before the loss
// passed for its window's state after it.
func TestS34rvwireVenueWideMarkerCoversEveryWindow(t *testing.T) {
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventTicker)
	filler := &nats.Msg{Subject: Subject(DefaultPrefix, schema.VenueBinance, "ETH-USDT", schema.EventTrade), Data: wire.Append(nil, tradeOf("ETH-USDT", 1), 1)}
	for name, marker := range map[string]func(*schema.CanonicalEvent){
		"venue, ticker": func(g *schema.CanonicalEvent) {
			g.Venue, g.Type = schema.VenueBinance, schema.EventGap
			g.UseControl().Kind, g.UseControl().GapType, g.UseControl().GapSource = schema.ControlGap, schema.EventTicker, schema.GapRelay
		},
		"symbol, every type": func(g *schema.CanonicalEvent) {
			g.Venue, g.Symbol, g.Type = schema.VenueBinance, "BTC-USDT", schema.EventGap
			g.UseControl().Kind, g.UseControl().GapSource = schema.ControlGap, schema.GapVenue
		},
	} {
		t.Run(name, func(t *testing.T) {
			q := newMsgQueue(2, 1<<20)
			q.push(filler)
			q.push(filler)
			for i, w := range []string{"", "1h", "4h"} {
				var ev schema.CanonicalEvent
				s34wireTicker(w, int64(i+1))(&ev)
				q.push(&nats.Msg{Subject: subj, Data: wire.Append(nil, &ev, 0)}) // dropped: kept
			}
			require.Same(t, filler, q.pop())
			require.Same(t, filler, q.pop())
			var g schema.CanonicalEvent
			marker(&g)
			typ := g.Type // a marker naming a type travels on that type's subject (Publisher.handle)
			if g.Control.GapType != schema.EventUnknown {
				typ = g.Control.GapType
			}
			msub := Subject(DefaultPrefix, g.Venue, g.Symbol, typ)
			q.push(&nats.Msg{Subject: msub, Data: wire.Append(nil, &g, 0)})
			m := q.pop()
			require.NotNil(t, m)
			mt, _ := wire.Type(m.Data)
			require.Equal(t, schema.EventGap, mt)
			require.Nil(t, q.pop(), "a window's ticker from before the marker handed out after it")
		})
	}
}
