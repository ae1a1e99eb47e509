package natsbridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// newSlowLink is a relay between a client and the server at target
// (ackStall) that, while slow is set, holds what the server sends for
// delay before it passes it on: a link of that latency.
func newSlowLink(t *testing.T, target string, delay time.Duration) *ackStall {
	p := newStall(t, target, nil)
	p.delay = delay
	return p
}

// TestS39rvnatsSlowLinkRemake: a Consumer reading one venue's reports
// from a stream other nodes share has a gap (another venue's report) between each two
// it handled: 250 ranges. An operator deletes its durable consumer while
// the link to the server has 25 ms of latency. The remake looked up each
// range in the stream (firstHeldGap: one GetMsg each, 6 s) inside the one
// 5 s budget of a try (resumeTimeout), which then had nothing left to
// make the consumer: every try failed the same way, retried for ever — the
// reports stopped, with only a log line. The look has half the budget; a
// range it did not reach is started at (a replay, dropped by sequence).
func TestS39rvnatsSlowLinkRemake(t *testing.T) {
	const n = 250
	srv := startServer(t)
	ingest, pub, js := storedReportsOn(t, srv, StreamOptions{}, 0)
	store := func(i int) {
		ev := new(schema.CanonicalEvent)
		execReport(i)(ev)
		_, err := js.PublishMsg(waitCtx(t), &nats.Msg{Subject: Subject(DefaultPrefix, ev.Venue, ev.Symbol, ev.Type), Data: wire.Append(nil, ev, 0)},
			jetstream.WithMsgID("s39rvslow-"+strconv.Itoa(i)))
		require.NoError(t, err)
	}
	for i := range n {
		store(i)
		_, err := js.Publish(waitCtx(t), DefaultPrefix+".okx.BTC-USDT.exec_report", []byte("another node's"))
		require.NoError(t, err)
	}

	proxy := newSlowLink(t, srv.Addr().String(), 25*time.Millisecond)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, proxy.url(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s39rvslow", Subjects: []string{DefaultPrefix + ".binance.>"}, AckWait: time.Hour})
	require.NoError(t, err)
	for i := range n {
		require.Equal(t, strconv.Itoa(1000+i), next(t, got, anyEvent).Exec.TradeID.String())
	}

	proxy.slow.Store(true)
	require.NoError(t, js.DeleteConsumer(waitCtx(t), DefaultStream, "s39rvslow"))
	eventually(t, func() bool { return cons.Stats().ExecResumed > 0 }, "the Consumer made its durable consumer again over the slow link")
	proxy.slow.Store(false)
	store(n)
	require.Equal(t, strconv.Itoa(1000+n), next(t, got, anyEvent).Exec.TradeID.String(), "a handled report handed on again")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}
