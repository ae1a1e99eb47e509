package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"

	"github.com/meltica/meltica/schema"
)

// TestS27QueueOverflowKeepsLatestPerSymbolSharingASubject: symbols that
// differ only in characters a subject token cannot hold ("BTC.USDT",
// "BTC_USDT") share a subject and are two streams (the package's rule,
// doc.go: sequences are per stream, not per subject). The newest dropped
// quote was kept per subject: the second symbol's replaced the first's,
// and a queued message of either threw the other's away, so the first
// was left on an older quote as its state, silently stale, until its next
// update. Latest wins per stream.
func TestS27QueueOverflowKeepsLatestPerSymbolSharingASubject(t *testing.T) {
	far, got, cons, raw, taken := overflowing(t)
	quote := func(sym string, px int64) *schema.CanonicalEvent {
		ev := tradeOf(sym, 1)
		ev.Type, ev.Trade = schema.EventBBO, schema.Trade{}
		ev.BBO.BidPrice = schema.NewDecimal(px, 1)
		return ev
	}
	a, b := "BTC.USDT", "BTC_USDT"
	require.Equal(t, Subject(DefaultPrefix, schema.VenueBinance, a, schema.EventBBO), Subject(DefaultPrefix, schema.VenueBinance, b, schema.EventBBO))
	cons.mu.Lock() // the consumer's goroutine stalls: its queue fills
	const n = 20
	var sent uint64
	send := func(ev *schema.CanonicalEvent) {
		raw.send(ev, 1)
		sent++
		eventually(t, func() bool { return taken() >= sent-1 }, "the queue took the message")
	}
	for px := int64(1); px <= n; px++ {
		send(quote(a, px))
	}
	for px := int64(1); px <= n; px++ {
		send(quote(b, 100+px))
	}
	require.Positive(t, cons.q.droppedCount(), "the queue never overflowed: the test tests nothing")
	cons.mu.Unlock()
	last := map[string]schema.Decimal{}
	for last[a] != schema.NewDecimal(n, 1) || last[b] != schema.NewDecimal(100+n, 1) {
		ev := next(t, got, anyMarket)
		require.Equal(t, schema.EventBBO, ev.Type, "%s %v", ev.Symbol, last)
		last[ev.Symbol] = ev.BBO.BidPrice
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// sharedSymbolToken reads the symbol token of any subject a server may
// hand on, odd ones included, without panicking.
func TestS27SharedSymbolToken(t *testing.T) {
	for subj, want := range map[string]bool{
		"meltica.binance.BTC_USDT.bbo":    true,
		"meltica.binance._.gap":           true,
		"meltica.binance.BTC-USDT.bbo":    false,
		"meltica.okx.BTC-USDT.mark_price": false, // '_' in the type, not the symbol
		"":                                false,
		"bbo":                             false,
		".":                               false,
		"_.bbo":                           true,
		"a..b":                            false,
	} {
		require.Equal(t, want, sharedSymbolToken(subj), subj)
	}
}

// FuzzQueueSharedSubject: the queue decodes what it drops on a subject
// whose symbol token may be shared (and a live kline) to key the newest
// quote it keeps; any bytes must leave it bounded and panic-free.
func FuzzQueueSharedSubject(f *testing.F) {
	for i, typ := range []schema.EventType{schema.EventBBO, schema.EventKlineLive, schema.EventTicker} {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC.USDT", Type: typ}
		ev.UseKline().Interval = "1m"
		f.Add(wire.Append(nil, ev, uint64(i)))
	}
	f.Add([]byte{wire.Version, byte(schema.EventBBO)})
	f.Fuzz(func(t *testing.T, data []byte) {
		q := newMsgQueue(1, 1<<10)
		subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC.USDT", schema.EventBBO)
		for range 3 {
			q.push(&nats.Msg{Subject: subj, Data: data})
		}
		for n := 0; q.pop() != nil; n++ {
			if n > 2 {
				t.Fatal("more popped than pushed")
			}
		}
	})
}
