package natsbridge

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// TestS43natsSteadyPathZeroAllocs: since the compact event (session 42)
// a decoded message's out-of-line sections (Ticker, Kline, Mark,
// Liquidation, Exec, Control, Balance, Position) are pointers filled by
// Use*: into a pooled event, its kept storage; into the scratch events
// the Consumer and its queue decode a message's stream into
// (wire.Scratch), theirs. Were an event that is not the pool's filled —
// a scratch struct embedding a schema.CanonicalEvent, the outer struct
// kept — each Use* of a section it did not carry allocated, per message.
// Measured on the steady path, once warm: the Consumer handing on core
// quotes whose messages carry their sections (through its queue's keyOf,
// which decodes a live kline, a ticker or a marker into its scratch, and
// onMsg into a pooled event, the dispatcher with no subscriber handing it
// back), and decoding durable messages (execution reports, balances,
// positions) into pooled events as onExec does.
func TestS43natsSteadyPathZeroAllocs(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	sub := cons.subs[0]

	// Each message carries its type's section only, as a venue's does: a
	// section the event decoded into before is dropped, and taken again
	// at the next message that carries it.
	full := func(typ schema.EventType) []byte {
		all := &schema.CanonicalEvent{}
		fixture.Full(all, 1)
		src := &schema.CanonicalEvent{Venue: all.Venue, Symbol: all.Symbol, Type: typ, IngestTS: all.IngestTS, BBO: all.BBO}
		switch typ {
		case schema.EventTicker:
			src.Ticker = all.Ticker
		case schema.EventKlineLive:
			src.Kline = all.Kline
		case schema.EventMarkPrice:
			src.Mark = all.Mark
		case schema.EventExecReport, schema.EventOrderAck:
			src.Exec = all.Exec
		case schema.EventBalance:
			src.Balance = all.Balance
		case schema.EventPosition:
			src.Position = all.Position
		case schema.EventGap:
			src.Control = all.Control
			src.Control.GapType = schema.EventTicker
		}
		return wire.Append(nil, src, 0)
	}
	var core []*nats.Msg
	for _, typ := range []schema.EventType{schema.EventTicker, schema.EventKlineLive, schema.EventMarkPrice, schema.EventBBO} {
		core = append(core, &nats.Msg{Subject: Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", typ), Data: full(typ), Sub: sub})
	}
	gap := &nats.Msg{Subject: Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventTicker), Data: full(schema.EventGap), Sub: sub}
	var durables [][]byte
	for _, typ := range durableTypes {
		durables = append(durables, full(typ))
	}
	q := cons.q
	handOn := func() {
		q.mu.Lock()
		for _, m := range core {
			q.keyOf(m, schema.EventType(m.Data[1]))
		}
		q.forgetCoveredLocked(gap)
		q.mu.Unlock()
		for _, m := range core {
			cons.onMsg(m)
		}
	}
	decode := func() {
		for _, data := range durables {
			ev, err := far.pools.Events.Get(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cons.execDec.Decode(data, ev); err != nil {
				t.Fatal(err)
			}
			far.pools.Events.Put(ev)
		}
	}
	// Warm: every event of the pool once (a section's kept storage is made
	// at its event's first Use of it).
	for range far.pools.Events.Capacity() {
		handOn()
		decode()
	}
	delivered := cons.Stats().Delivered
	require.Zero(t, testing.AllocsPerRun(200, handOn), "allocations per core quote handed on")
	require.Zero(t, testing.AllocsPerRun(200, decode), "allocations per durable message decoded")
	require.Greater(t, cons.Stats().Delivered, delivered, "the quotes were handed on")

	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
