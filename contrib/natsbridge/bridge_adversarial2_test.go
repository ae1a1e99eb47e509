package natsbridge

// Adversarial tests, second round (reviewer R4), written apart from the
// implementation: losses the consumer itself causes at the start of a
// stream, malformed messages on core NATS and in the stream of execution
// reports, and streams whose symbols share a subject.

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// rawSender publishes wire messages on core NATS as a Publisher would, so
// that a test chooses every bridge sequence.
type rawSender struct {
	tb testing.TB
	nc *nats.Conn
}

func (s rawSender) send(ev *schema.CanonicalEvent, seq uint64) {
	s.tb.Helper()
	require.NoError(s.tb, s.nc.Publish(Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), wire.Append(nil, ev, seq)))
	require.NoError(s.tb, s.nc.Flush())
}

func (s rawSender) sendBytes(ev *schema.CanonicalEvent, data []byte) {
	s.tb.Helper()
	require.NoError(s.tb, s.nc.Publish(Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), data))
	require.NoError(s.tb, s.nc.Flush())
}

func tradeOf(sym string, seq uint64) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: sym, Type: schema.EventTrade, SeqProvider: seq}
}

// The first message of a stream that finds the host's pool exhausted is a
// loss like any other: the consumer received it and could not hand it on.
// The subscriber hears of it (a gap marker of one) before the stream's
// next event, although the consumer had never seen the stream before.
func TestAdversarial2FirstMessageOfStreamLostToPool(t *testing.T) {
	srv := startServer(t)
	far := newSmallNode(t)
	got := make(chan *schema.CanonicalEvent, 64)
	_, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, nil)
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}

	for _, seq0 := range []uint64{1, 41} { // a stream from its start, and one joined midway
		sym := "ETH-USDT"
		if seq0 != 1 {
			sym = "SOL-USDT"
		}
		eventually(t, func() bool { return far.events.Stats().InUse <= 1 }, "the pool settled")
		dropped := cons.Stats().PoolDropped
		far.hold(0)
		raw.send(tradeOf(sym, seq0), seq0) // no event for it: dropped
		eventually(t, func() bool { return cons.Stats().PoolDropped == dropped+1 }, "dropped for want of an event")
		far.release()
		raw.send(tradeOf(sym, seq0+1), seq0+1)
		g := next(t, got, anyEvent)
		require.Equal(t, schema.EventGap, g.Type, "%s: the stream's first event was lost to the pool and nobody was told", sym)
		assert.Equal(t, uint64(1), g.Control.GapCount)
		assert.Equal(t, sym, g.Symbol)
		assert.Equal(t, schema.EventTrade, g.Control.GapType)
		assert.Equal(t, seq0+1, next(t, got, anyEvent).SeqProvider)
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, far.d.Close(closeCtx(t)))
	require.NoError(t, far.events.Shutdown(closeCtx(t)))
}

// Malformed core messages — truncated, another layout version, trailing
// bytes, a section mask with unknown bits, nothing at all — are counted
// and dropped; the connection and every other stream go on, and the loss
// in an ordered stream is announced before its next event.
func TestAdversarial2MalformedCoreMessages(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}

	good := wire.Append(nil, tradeOf("BTC-USDT", 1), 1)
	bad := [][]byte{
		nil,
		{wire.Version},
		good[:len(good)-1],                      // truncated
		append(append([]byte(nil), good...), 0), // trailing byte
		append([]byte{wire.Version + 1}, good[1:]...),                                                             // a layout this version does not know
		{wire.Version, byte(schema.EventTrade), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // an endless varint
	}
	raw.send(tradeOf("BTC-USDT", 1), 1)
	require.Equal(t, uint64(1), next(t, got, anyEvent).SeqProvider)
	seq := uint64(1)
	for i, b := range bad {
		seq++ // the malformed message took this sequence
		raw.sendBytes(tradeOf("BTC-USDT", 0), b)
		seq++
		raw.send(tradeOf("BTC-USDT", seq), seq)
		g := next(t, got, anyEvent)
		require.Equal(t, schema.EventGap, g.Type, "case %d: the malformed message's loss was not announced", i)
		assert.Equal(t, uint64(1), g.Control.GapCount, "case %d", i)
		require.Equal(t, seq, next(t, got, anyEvent).SeqProvider, "case %d", i)
	}
	eventually(t, func() bool { return cons.Stats().Malformed == uint64(len(bad)) }, "every malformed message counted: %+v", cons.Stats())
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// A malformed message in the stream of execution reports (another
// producer's, a corrupt store) is terminated and counted; the reports
// after it are handed on at once, in order, once each — it does not hold
// the durable consumer up for AckWait nor come back.
func TestAdversarial2MalformedExecReport(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "malformed", AckWait: longAckWait})
	require.NoError(t, err)

	ingest.publish(t, execReport(0))
	require.NoError(t, pub.Flush(closeCtx(t)))
	// Another producer stores garbage under a report's subject, with and
	// without a message id.
	js, err := jetstream.New(connect(t, srv.ClientURL(), nil))
	require.NoError(t, err)
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventExecReport)
	_, err = js.Publish(closeCtx(t), subj, []byte("not a report"))
	require.NoError(t, err)
	_, err = js.Publish(closeCtx(t), subj, []byte{wire.Version, byte(schema.EventExecReport)}, jetstream.WithMsgID("junk-1"))
	require.NoError(t, err)
	for i := 1; i < 4; i++ {
		ingest.publish(t, execReport(i))
	}
	require.NoError(t, pub.Flush(closeCtx(t)))
	for i := range 4 {
		ev := next(t, got, ofType(schema.EventExecReport))
		require.Equal(t, uint64(1000+i), mustUint(t, ev.Exec.TradeID.String()), "report %d", i)
	}
	// Both are counted (the one that is no wire message at all once more:
	// its core copy, which every subscription of the subject gets too).
	eventually(t, func() bool { return cons.Stats().Malformed >= 2 }, "both malformed reports counted: %+v", cons.Stats())
	require.NoError(t, cons.Close(closeCtx(t)))
	select {
	case ev := <-got:
		t.Fatalf("a report twice: %v", ev.Exec.TradeID)
	default:
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	var n uint64
	for _, c := range s {
		require.True(t, c >= '0' && c <= '9', "%q", s)
		n = n*10 + uint64(c-'0')
	}
	return n
}

// Two symbols the subject cannot tell apart ('.' becomes '_' in a token)
// are still two streams with sequences of their own: the loss of one is
// announced on that one, and the other, interleaved, is never taken for a
// loss or a restart.
func TestAdversarial2SymbolsSharingASubject(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	require.Equal(t, Subject(DefaultPrefix, schema.VenueBinance, "BTC.USDT", schema.EventTrade),
		Subject(DefaultPrefix, schema.VenueBinance, "BTC_USDT", schema.EventTrade), "the premise: one subject")
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventTrade, schema.EventGap}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	// Through the real Publisher, interleaved: each symbol its own
	// sequence; nothing is lost, so no marker may appear.
	for i := uint64(1); i <= 20; i++ {
		for _, sym := range []string{"BTC.USDT", "BTC_USDT"} {
			ingest.publish(t, func(ev *schema.CanonicalEvent) {
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, sym, schema.EventTrade, i
			})
		}
	}
	require.NoError(t, pub.Flush(closeCtx(t)))
	next := map[string]uint64{}
	for range 40 {
		ev := <-got
		require.Equal(t, schema.EventTrade, ev.Type, "a loss announced where there was none: %+v", ev.Control)
		require.Equal(t, next[ev.Symbol]+1, ev.SeqProvider, ev.Symbol)
		next[ev.Symbol] = ev.SeqProvider
	}
	require.Zero(t, cons.Stats().Gaps)

	// Now one of them loses a message (sequences chosen by hand, as the
	// publisher numbers each stream): A3 never arrives. The loss is
	// announced on A, before A4, and B is untouched.
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	a, b := "BTC.USDT", "BTC_USDT"
	for _, m := range []struct {
		sym string
		seq uint64
	}{{a, 21}, {b, 21}, {a, 22}, {b, 22}, {b, 23}, {a, 24}, {b, 24}} {
		raw.send(&schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: m.sym, Type: schema.EventTrade, SeqProvider: m.seq}, m.seq)
	}
	for range 6 {
		ev := <-got
		if ev.Symbol == a && ev.SeqProvider == 24 {
			t.Fatal("A's loss of 23 was never announced")
		}
		if ev.Type == schema.EventGap {
			require.Equal(t, a, ev.Symbol, "the loss announced on the wrong stream")
			require.Equal(t, uint64(1), ev.Control.GapCount)
			require.Equal(t, uint64(24), (<-got).SeqProvider)
			break
		}
		require.Equal(t, next[ev.Symbol]+1, ev.SeqProvider, ev.Symbol)
		next[ev.Symbol] = ev.SeqProvider
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// A consumer that subscribes to one stream by its subject — the documented
// "meltica.*.*.trade" kind of filter — hears of that stream's losses on
// the ingest node too: a venue parser's gap marker (a broken book) and the
// ingest dispatcher's own (the Publisher's lane dropped trades) reach it
// before the stream's next event. A strategy must never trade on a book it
// does not know is broken because of how it spelled its subject.
func TestAdversarial2StreamFilterHearsItsGaps(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	for _, subjects := range [][]string{
		{"meltica.binance.BTC-USDT.book_update"},
		{"meltica.*.*.book_update"},
		{"meltica.*.BTC-USDT.book_update", "meltica.*.*.trade"},
	} {
		far := newNode(t)
		got := far.collect(t, dispatch.Filter{})
		cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
			&ConsumerOptions{Subjects: subjects})
		require.NoError(t, err)
		diff := func(seq uint64) {
			ingest.publish(t, func(ev *schema.CanonicalEvent) {
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventBookUpdate, seq
			})
		}
		diff(1)
		// The venue parser found the diffs' sequence broken.
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventGap
			*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3,
				GapSource: schema.GapVenue, GapFirstSeq: 2, GapLastSeq: 4}
		})
		diff(5)
		require.NoError(t, pub.Flush(closeCtx(t)))
		// The marker is critical: on the ingest node it may overtake diff
		// 1 (still queued for the Publisher), never diff 5.
		var marker *schema.CanonicalEvent
		for _, want := range []uint64{1, 5} {
			ev := next(t, got, anyMarket)
			if ev.Type == schema.EventGap && marker == nil {
				marker = ev
				ev = next(t, got, anyMarket)
			}
			require.Equal(t, schema.EventBookUpdate, ev.Type, "%v: %+v", subjects, ev.Control)
			require.Equal(t, want, ev.SeqProvider, "%v", subjects)
		}
		require.NotNil(t, marker, "%v: the book broke on the ingest node and this consumer was never told", subjects)
		require.Equal(t, schema.EventBookUpdate, marker.Control.GapType)
		require.Equal(t, uint64(3), marker.Control.GapCount)
		require.NoError(t, cons.Close(closeCtx(t)))
		far.close(t)
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
}

// A venue's gap marker about its execution reports (a user data stream
// that lost messages) reaches a consumer with a durable consumer once. It
// is stored in the stream with the reports it speaks for (review s24: on
// core NATS, with no sequence, its loss could not be told;
// TestS24ExecGapMarkerDurable), and not also sent on core NATS.
func TestAdversarial2ExecGapMarkerOnce(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventGap, schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "execgap", AckWait: longAckWait})
	require.NoError(t, err)
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventGap
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, GapCount: 1}
	})
	ingest.publish(t, execReport(0))
	require.NoError(t, pub.Flush(closeCtx(t)))
	seen := map[schema.EventType]int{}
	for seen[schema.EventExecReport] == 0 || seen[schema.EventGap] == 0 {
		seen[next(t, got, anyMarket).Type]++
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
	for ev := range len(got) {
		_ = ev
		seen[(<-got).Type]++
	}
	require.Equal(t, map[schema.EventType]int{schema.EventGap: 1, schema.EventExecReport: 1}, seen)
	require.Equal(t, uint64(2), pub.Stats().ExecStored, "the report and the marker about reports, stored")
}

// A publisher that restarts counts its streams from 1 again. When the new
// run's first messages are lost, the consumer, which sees the sequence go
// back, announces them too: the new run's messages before the first that
// arrived.
func TestAdversarial2PublisherRestartLosesItsFirst(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	for seq := uint64(1); seq <= 5; seq++ {
		raw.send(tradeOf("BTC-USDT", 100+seq), seq)
		require.Equal(t, 100+seq, next(t, got, anyMarket).SeqProvider)
	}
	// The restarted run: 1 and 2 never arrive, 3 does.
	raw.send(tradeOf("BTC-USDT", 201), 3)
	g := next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "the new run's first messages were lost unannounced")
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, uint64(201), next(t, got, anyMarket).SeqProvider)
	// A restart whose first message arrives: no loss.
	raw.send(tradeOf("BTC-USDT", 301), 1)
	require.Equal(t, uint64(301), next(t, got, anyMarket).SeqProvider)
	require.Equal(t, uint64(1), cons.Stats().Gaps)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// anyMarket keeps every event but the consumer's reports of its own NATS
// connection.
func anyMarket(ev *schema.CanonicalEvent) bool { return ev.Venue != DefaultStateVenue }

// A venue's connection states and venue-wide control carry no symbol;
// dispatch lets them through any symbol list ("a subscriber to some
// symbols of a venue still hears that its connection dropped"). Across the
// bridge a consumer whose subjects name symbols hears them too.
func TestAdversarial2SymbolFilterHearsVenueState(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	for _, tc := range []struct {
		subjects []string
		hears    bool
	}{
		{[]string{"meltica.binance.BTC-USDT.>"}, true},
		{[]string{"meltica.*.BTC-USDT.*"}, true},
		{[]string{"meltica.okx.BTC-USDT.>"}, false},                   // another venue
		{[]string{"meltica.binance.BTC-USDT.trade"}, false},           // a type list without conn_state, as dispatch has it
		{[]string{"meltica.binance.BTC-USDT.conn_state"}, true},       // naming the type
		{[]string{"meltica.binance.>", "meltica.*.BTC-USDT.*"}, true}, // overlapping: once
	} {
		far := newNode(t)
		got := far.collect(t, dispatch.Filter{})
		cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
			&ConsumerOptions{Subjects: tc.subjects})
		require.NoError(t, err)
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Type = schema.VenueBinance, schema.EventConnState
			*ev.UseControl() = schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}
		})
		require.NoError(t, pub.Flush(closeCtx(t)))
		// Then an event of the symbol's own stream, which every filter that
		// hears the state also gets (on the same subject as a
		// symbol's state): it marks the end.
		raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
		raw.send(&schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventConnState}, 0)
		heard := 0
		deadline := closeCtx(t)
	wait:
		for {
			select {
			case ev := <-got:
				if ev.Venue == schema.VenueBinance && ev.Symbol == "" && ev.Type == schema.EventConnState {
					heard++
				}
				if ev.Venue == schema.VenueBinance && ev.Symbol == "BTC-USDT" && ev.Type == schema.EventConnState {
					break wait
				}
			case <-deadline.Done():
				if tc.hears || heard > 0 {
					t.Fatalf("%v: the end marker never came", tc.subjects)
				}
				break wait
			}
		}
		if tc.hears {
			require.Equal(t, 1, heard, "%v: the venue's connection state heard %d times", tc.subjects, heard)
		} else {
			require.Zero(t, heard, "%v", tc.subjects)
		}
		require.NoError(t, cons.Close(closeCtx(t)))
		far.close(t)
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
}

// A burst far beyond the consumer's pending bounds (a few messages, a few
// hundred bytes) on several ordered streams: every trade is delivered or
// counted by a gap marker of its own stream ahead of the stream's next
// event — nothing vanishes, nothing is counted twice, and each stream
// stays in order.
func TestAdversarial2BurstPastPendingBounds(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := make(chan *schema.CanonicalEvent, 1<<16)
	_, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}},
		&dispatch.SubscribeOptions{OrderedBound: 1 << 16, Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{PendingMsgs: 4, PendingBytes: 512})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	syms := []string{"A", "B", "C"}
	sent := map[string]uint64{}
	var buf []byte
	for i := range 6000 {
		sym := syms[i%len(syms)]
		sent[sym]++
		ev := tradeOf(sym, sent[sym])
		ev.Raw = make([]byte, i%200) // sizes around the byte bound
		buf = wire.Append(buf[:0], ev, sent[sym])
		require.NoError(t, raw.nc.Publish(Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), buf))
	}
	require.NoError(t, raw.nc.Flush())
	// A loss at a stream's end shows with its next message: send one more
	// per stream, slowly, until each stream's last message has arrived.
	next := map[string]uint64{}
	lost := map[string]uint64{}
	pendingGap := map[string]uint64{}
	done := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for len(done) < len(syms) {
		require.True(t, time.Now().Before(deadline), "streams never caught up: delivered %v, sent %v", next, sent)
		for _, sym := range syms {
			if !done[sym] {
				sent[sym]++
				raw.send(tradeOf(sym, sent[sym]), sent[sym])
			}
		}
	drain:
		for {
			select {
			case ev := <-got:
				switch ev.Type {
				case schema.EventGap:
					if ev.Control.GapType == schema.EventUnknown && ev.Symbol == "" {
						// nats.go dropped messages it does not name: the
						// venue's streams may be stale (counted by each
						// stream's own marker when it resumes).
						require.Zero(t, ev.Control.GapCount)
						continue
					}
					require.Equal(t, schema.EventTrade, ev.Control.GapType)
					pendingGap[ev.Symbol] += ev.Control.GapCount
					lost[ev.Symbol] += ev.Control.GapCount
				case schema.EventTrade:
					sym := ev.Symbol
					require.Equal(t, next[sym]+pendingGap[sym]+1, ev.SeqProvider,
						"%s: trade %d after %d and %d announced lost", sym, ev.SeqProvider, next[sym], pendingGap[sym])
					next[sym], pendingGap[sym] = ev.SeqProvider, 0
					if next[sym] == sent[sym] {
						done[sym] = true
					}
				}
			case <-time.After(50 * time.Millisecond):
				break drain
			}
		}
	}
	st := cons.Stats()
	var totalLost uint64
	for _, sym := range syms {
		totalLost += lost[sym]
	}
	require.Positive(t, totalLost, "the burst never overflowed the bounds: the test proves nothing")
	require.Equal(t, totalLost, st.Lost, "%+v", st)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
