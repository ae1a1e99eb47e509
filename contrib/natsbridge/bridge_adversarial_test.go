package natsbridge

// Adversarial tests written apart from the implementation (reviewer R1).

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// Execution reports that reach a consumer whose host pool is exhausted are
// handed back, not lost: once events are free they all arrive, once each,
// in order — and market data published meanwhile has its loss announced.
func TestAdversarialExecReportsWaitOutPoolExhaustion(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d,
		&PublisherOptions{Lanes: dispatch.SubscribeOptions{OrderedBound: 1 << 12}})
	require.NoError(t, err)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 4096)
	_, err = far.d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{OrderedBound: 4096, Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events,
		&ConsumerOptions{Durable: "pressure", AckWait: longAckWait, PoolWait: 5 * time.Millisecond})
	require.NoError(t, err)

	trade := uint64(0)
	pubTrade := func() {
		trade++
		seq := trade
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, seq
		})
	}
	pubTrade()
	require.Equal(t, uint64(1), next(t, got, ofType(schema.EventTrade)).SeqProvider)

	// The subscriber can get its clone before the consumer's Publish has
	// put the original back: wait until only the consumer's reserve is out,
	// then take every other event.
	eventually(t, func() bool { return far.events.Stats().InUse <= 1 }, "the pool settled")
	far.hold(0)
	require.Equal(t, int64(far.events.Capacity()), far.events.Stats().InUse, "the pool is empty")
	const reports = 5
	for i := range reports {
		ingest.publish(t, execReport(i))
		pubTrade()
	}
	require.NoError(t, pub.Flush(closeCtx(t)))
	// The trades found the pool empty (shelved, counted), and so did at
	// least one delivery of a report (handed back, counted). A generous
	// deadline: this is a wait, not a measure.
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for st := cons.Stats(); st.Received < 1+reports || st.PoolDropped < reports+1; st = cons.Stats() {
		require.True(t, time.Now().Before(deadline), "the consumer did not meet the empty pool: %+v", st)
		<-tick.C
	}
	assert.Zero(t, cons.Stats().ExecDelivered, "nothing could be handed on")
	far.release()

	var ids []string
	var announced uint64
	last := uint64(1)
	tail := false
	for n := 0; len(ids) < reports || last+announced < trade; n++ {
		ev := next(t, got, anyEvent)
		require.Less(t, n, 2000, "events keep coming: %s %+v; ids %v last %d trade %d; consumer %+v", ev.Type, ev.Control, ids, last, trade, cons.Stats())
		switch ev.Type {
		case schema.EventExecReport:
			ids = append(ids, ev.Exec.TradeID.String())
		case schema.EventGap:
			announced += ev.Control.GapCount
		case schema.EventTrade:
			require.LessOrEqual(t, ev.SeqProvider-last-1, announced, "a hole without its marker before trade %d", ev.SeqProvider)
			announced -= ev.SeqProvider - last - 1
			last = ev.SeqProvider
		}
		if len(ids) == reports && !tail {
			tail = true
			pubTrade() // the stream's next message reports a loss at its end
		}
	}
	assert.Equal(t, []string{"1000", "1001", "1002", "1003", "1004"}, ids, "every report once, in order")
	require.NoError(t, cons.Close(closeCtx(t)))
	assert.Equal(t, uint64(reports), cons.Stats().ExecDelivered)
	ctx := closeCtx(t)
	require.NoError(t, far.d.Close(ctx))
	require.NoError(t, far.events.Shutdown(ctx))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
}

// Overlapping filters in either order — the wide one first or the narrow
// one first — hand each event on once, in the order published; a restart
// of the consumer in between changes nothing.
func TestAdversarialOverlapEitherOrder(t *testing.T) {
	for _, subjects := range [][]string{
		{"meltica.>", "meltica.binance.BTC-USDT.trade"},
		{"meltica.binance.BTC-USDT.trade", "meltica.>"},
		{"meltica.*.BTC-USDT.>", "meltica.binance.*.*", "meltica.>"},
	} {
		t.Run(subjects[0], func(t *testing.T) {
			srv := startServer(t)
			ingest := newNode(t)
			pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d,
				&PublisherOptions{Lanes: dispatch.SubscribeOptions{OrderedBound: 1 << 12}})
			require.NoError(t, err)
			seq := uint64(0)
			var want []uint64
			round := func(cons *Consumer, got <-chan *schema.CanonicalEvent) {
				want = want[:0]
				for i := range 60 {
					seq++
					s := seq
					sym := []string{"BTC-USDT", "ETH-USDT"}[i%2]
					ingest.publish(t, func(ev *schema.CanonicalEvent) {
						ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, sym, schema.EventTrade, s
					})
					want = append(want, s)
				}
				ingest.publish(t, execReport(int(seq)))
				var have []uint64
				reports := 0
				for len(have) < len(want) || reports < 1 {
					ev := next(t, got, anyEvent)
					switch ev.Type {
					case schema.EventTrade:
						have = append(have, ev.SeqProvider)
					case schema.EventExecReport:
						reports++
					case schema.EventGap:
						t.Fatalf("unexpected gap %+v", ev.Control)
					}
				}
				require.Equal(t, want, have, "once each, in order")
				require.NoError(t, pub.Flush(closeCtx(t)))
				eventually(t, func() bool { return cons.Stats().ExecDelivered == 1 }, "the report once")
			}
			for range 2 { // a clean restart between the rounds
				far := newNode(t)
				got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
				cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
					&ConsumerOptions{Durable: "either", Subjects: subjects, AckWait: longAckWait})
				require.NoError(t, err)
				round(cons, got)
				require.NoError(t, cons.Close(closeCtx(t)))
				far.close(t)
				for len(got) > 0 {
					ev := <-got
					require.NotEqual(t, schema.EventExecReport, ev.Type, "a report twice")
					require.NotEqual(t, schema.EventTrade, ev.Type, "a trade twice")
				}
			}
			require.NoError(t, pub.Close(closeCtx(t)))
			ingest.close(t)
		})
	}
}
