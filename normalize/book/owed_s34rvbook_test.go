package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A break's announcement that the pool could not give is owed and tried
// again at every event the book is given (Books.OnEvent applies each
// connection state with one StateTimeout for all the venue's books, so a
// pipeline stalled that long leaves it owed through several). The
// quote's withdrawal in it is not dropped — it goes out with the marker,
// once — yet every try that found the pool exhausted counted it in
// Stats.BBODropped ("best bid/offer updates dropped on an exhausted
// pool"): four "drops" here of an update that was never dropped.
func TestS34rvOwedWithdrawalIsNotCountedDropped(t *testing.T) {
	b, sink, events := newRecBook(t, OKX, "BTC-USDT", nil)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	published := len(sink.ofType(schema.EventBBO))
	held := takeAll(events)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, b.Apply(expired, lostConn(schema.VenueOKX, 0)))
	for _, st := range []schema.ConnState{schema.ConnReconnecting, schema.ConnConnecting, schema.ConnConnected} {
		ev := lostConn(schema.VenueOKX, 0)
		ev.UseControl().State = st
		require.Error(t, b.Apply(expired, ev), "still owed")
	}
	require.Len(t, sink.ofType(schema.EventBBO), published)
	require.Zero(t, b.Stats().BBODropped, "an owed withdrawal counted as a dropped quote")
	putAll(events, held)

	applyLive(t, b, okxRaw("books", "snapshot", -1, 20, `["99","1","0","1"]`, `["102","1","0","1"]`, ""))
	var withdrawals, quotes int
	for _, ev := range sink.ofType(schema.EventBBO)[1:] {
		if ev.BBO.BidPrice.IsZero() {
			withdrawals++
		} else {
			quotes++
		}
	}
	require.Equal(t, 1, withdrawals)
	require.Equal(t, 1, quotes)
	require.Zero(t, b.Stats().BBODropped, "%+v", b.Stats())
}

// takeAll takes every free event of events, as a stalled pipeline holds
// them; putAll gives them back.
func takeAll(events *pool.Pool[*schema.CanonicalEvent]) []*schema.CanonicalEvent {
	var held []*schema.CanonicalEvent
	for {
		ev, err := events.TryGet()
		if err != nil {
			return held
		}
		held = append(held, ev)
	}
}

func putAll(events *pool.Pool[*schema.CanonicalEvent], held []*schema.CanonicalEvent) {
	for _, ev := range held {
		events.Put(ev)
	}
}
