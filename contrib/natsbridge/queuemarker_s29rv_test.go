package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS29rvQueueMarkerOfEverySymbolSupersedesKept: the whole kind of
// TestS29QueueMarkerSupersedesKeptKline. A marker naming no symbol (a
// dispatch subscriber's queue past maxStaleStreams: one per (venue, type);
// a Publisher's relay marker per venue naming no type) travels on the
// venue's subject (symbol token "_"), not on the subjects of the quotes it
// covers, so the quotes the queue kept from before it were handed out
// after it, from before the loss it announces. It supersedes every kept
// quote it covers: of its venue and type, or of its venue when it names no
// type; not another venue's or type's.
func TestS29rvQueueMarkerOfEverySymbolSupersedesKept(t *testing.T) {
	bbo := func(v schema.Venue, sym string, typ schema.EventType) *nats.Msg {
		ev := &schema.CanonicalEvent{Venue: v, Symbol: sym, Type: typ}
		return &nats.Msg{Subject: Subject(DefaultPrefix, v, sym, typ), Data: wire.Append(nil, ev, 0)}
	}
	for _, tc := range []struct {
		name    string
		sym     string
		gapType schema.EventType
		subject string
		kept    []string // subjects still kept after the marker
	}{
		{"venue and type", "", schema.EventBBO, Subject(DefaultPrefix, schema.VenueBinance, "", schema.EventBBO),
			[]string{Subject(DefaultPrefix, schema.VenueBinance, "ETH-USDT", schema.EventTicker), Subject(DefaultPrefix, schema.VenueOKX, "BTC-USDT", schema.EventBBO)}},
		{"symbol", "BTC-USDT", schema.EventUnknown, Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventGap),
			[]string{Subject(DefaultPrefix, schema.VenueBinance, "SOL-USDT", schema.EventBBO), Subject(DefaultPrefix, schema.VenueBinance, "ETH-USDT", schema.EventTicker), Subject(DefaultPrefix, schema.VenueOKX, "BTC-USDT", schema.EventBBO)}},
		{"venue", "", schema.EventUnknown, Subject(DefaultPrefix, schema.VenueBinance, "", schema.EventGap),
			[]string{Subject(DefaultPrefix, schema.VenueOKX, "BTC-USDT", schema.EventBBO)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newMsgQueue(4, 1<<20) // 4 queued, 4 kept
			filler := &nats.Msg{Subject: "x", Data: wire.Append(nil, tradeOf("ETH-USDT", 1), 1)}
			for range 4 {
				q.push(filler)
			}
			// The queue is full: each dropped, kept.
			q.push(bbo(schema.VenueBinance, "BTC-USDT", schema.EventBBO))
			q.push(bbo(schema.VenueBinance, "SOL-USDT", schema.EventBBO))
			q.push(bbo(schema.VenueBinance, "ETH-USDT", schema.EventTicker))
			q.push(bbo(schema.VenueOKX, "BTC-USDT", schema.EventBBO))
			for range 4 {
				require.Same(t, filler, q.pop())
			}
			marker := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: tc.sym, Type: schema.EventGap,
				Control: &schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapSubscriberQueue}}
			m := &nats.Msg{Subject: tc.subject, Data: wire.Append(nil, marker, 1)}
			q.push(m)
			require.Same(t, m, q.pop())
			var after []string
			for m := q.pop(); m != nil; m = q.pop() {
				after = append(after, m.Subject)
			}
			require.ElementsMatch(t, tc.kept, after, "kept quotes handed out after the marker about them")
		})
	}
}

// FuzzS29rvQueueMarkerCovers: a message on any subject, of any bytes,
// pushed while the queue keeps quotes (a gap marker naming no symbol or
// type is decoded and the kept subjects split): no panic, nothing handed
// out twice, the queue bounded.
func FuzzS29rvQueueMarkerCovers(f *testing.F) {
	for _, sym := range []string{"", "BTC-USDT"} {
		for _, gt := range []schema.EventType{schema.EventUnknown, schema.EventBBO} {
			g := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: sym, Type: schema.EventGap,
				Control: &schema.Control{Kind: schema.ControlGap, GapType: gt}}
			f.Add(Subject(DefaultPrefix, schema.VenueBinance, sym, schema.EventGap), wire.Append(nil, g, 1))
		}
	}
	f.Add("a.b", []byte{wire.Version, byte(schema.EventGap)})
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, subject string, data []byte) {
		q := newMsgQueue(1, 1<<12)
		filler := &nats.Msg{Subject: "x", Data: wire.Append(nil, tradeOf("ETH-USDT", 1), 1)}
		q.push(filler)
		for _, sym := range []string{"BTC-USDT", "BTC.USDT", ""} {
			ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: sym, Type: schema.EventBBO}
			q.push(&nats.Msg{Subject: Subject(DefaultPrefix, ev.Venue, sym, ev.Type), Data: wire.Append(nil, ev, 0)})
		}
		require.Same(t, filler, q.pop())
		q.push(&nats.Msg{Subject: subject, Data: data})
		for n := 0; q.pop() != nil; n++ {
			if n > 1 {
				t.Fatal("more popped than pushed and kept")
			}
		}
	})
}
