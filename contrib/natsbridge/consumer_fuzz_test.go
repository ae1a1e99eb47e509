package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// FuzzConsumerMessage hands arbitrary bytes to a Consumer as a core message
// of its subscription (a foreign producer, a corrupt message, another
// layout version): nothing panics, and every input leaves the host's pool
// as it found it — a malformed message costs nothing else — and what the
// consumer keeps per stream stays within MaxStreams.
func FuzzConsumerMessage(f *testing.F) {
	var seeds []*schema.CanonicalEvent
	for _, typ := range []schema.EventType{schema.EventTrade, schema.EventBBO, schema.EventBookUpdate, schema.EventGap, schema.EventConnState, schema.EventExecReport} {
		ev := &schema.CanonicalEvent{}
		fixture.Full(ev, int(typ))
		ev.Type = typ
		seeds = append(seeds, ev)
	}
	for i, ev := range seeds {
		f.Add(wire.Append(nil, ev, uint64(i)))
		f.Add(wire.Append(nil, ev, 0)[:40])
	}
	f.Add([]byte{wire.Version + 1, byte(schema.EventTrade)})
	f.Add([]byte{wire.Version, byte(schema.NumEventTypes), 0})
	f.Add([]byte("not a message"))

	srv := startServer(f)
	n := newNode(f)
	// Few streams kept: inputs naming many streams forget some (MaxStreams).
	c, err := NewConsumer(waitCtx(f), connect(f, srv.ClientURL(), nil), n.d, n.pools.Events, &ConsumerOptions{MaxStreams: 4})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		if err := c.Close(closeCtx(f)); err != nil {
			f.Error(err)
		}
		n.close(f)
	})
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventTrade)
	f.Fuzz(func(t *testing.T, data []byte) {
		before := n.pools.Events.Stats().InUse
		c.onMsg(&nats.Msg{Subject: subj, Data: data, Sub: c.subs[0]})
		if after := n.pools.Events.Stats().InUse; after != before {
			t.Fatalf("events in use %d, %d before the message", after, before)
		}
		if subjects, seqs, latest := c.sizes(); subjects > 4 || seqs > 4 || latest > 4 {
			t.Fatalf("kept %d subjects, %d sequence states, %d latest updates: over MaxStreams 4", subjects, seqs, latest)
		}
	})
}
