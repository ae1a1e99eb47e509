package natsbridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// limitedServer starts a server whose JetStream limits are lim
// (jetstream { limits { … } } in its configuration).
func limitedServer(t *testing.T, lim server.JSLimitOpts) *embedded.Server {
	srv, err := embedded.StartWith(t.TempDir(), 0, func(o *server.Options) { o.JetStreamLimits = lim })
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return srv
}

// readReports starts a far node whose Consumer (opts) reads the stream of
// srv, requires reports 0 to n-1 in order, and closes everything.
func readReports(t *testing.T, srv *embedded.Server, ingest *node, pub *Publisher, opts ConsumerOptions, n int) {
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, &opts)
	require.NoError(t, err)
	for i := range n {
		ev := next(t, got, anyEvent)
		require.Equal(t, strconv.Itoa(1000+i), ev.Exec.TradeID.String(), "report %d: %s %s", i, ev.Type, reasonOf(ev))
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	require.Equal(t, uint64(n), cons.Stats().ExecDelivered)
	ingest.close(t)
	far.close(t)
}

// TestS39natsServerBatchLimit: a server whose JetStream limits say
// max_request_batch 2 gives it to every pull consumer made without one,
// the Consumer's own durable too. With MaxAckPending 4 the Consume asked
// for 5 reports in one pull: refused (409 "Exceeded MaxRequestBatch of
// 2"), which nats.go does not count back — not one report was delivered,
// for good, with only an error nobody saw. The pulls keep within it.
func TestS39natsServerBatchLimit(t *testing.T) {
	srv := limitedServer(t, server.JSLimitOpts{MaxRequestBatch: 2})
	ingest, pub, _ := storedReportsOn(t, srv, StreamOptions{}, 6)
	readReports(t, srv, ingest, pub, ConsumerOptions{Durable: "s39batch", MaxAckPending: 4, AckWait: time.Hour}, 6)
}

// TestS39natsOperatorRequestLimits: an operator made the durable consumer
// with request limits of its own (nats consumer add --max-pull-waiting,
// --max-pull-batch, --max-pull-expire). MaxWaiting cannot be updated:
// the Consumer's update, asking for the server's default (512), was
// refused and NewConsumer failed ("max waiting can not be updated"); and
// the operator's batch and expiry limits were erased by it. The Consumer
// keeps the operator's limits and pulls within them.
func TestS39natsOperatorRequestLimits(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 6)
	_, err := js.CreateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: "s39oplimits",
		AckPolicy: jetstream.AckExplicitPolicy, MaxWaiting: 2, MaxRequestBatch: 2, MaxRequestExpires: 3 * time.Second,
		MaxRequestMaxBytes: 1 << 20})
	require.NoError(t, err)
	readReports(t, srv, ingest, pub, ConsumerOptions{Durable: "s39oplimits", MaxAckPending: 4, AckWait: time.Hour}, 6)
	cons, err := js.Consumer(waitCtx(t), DefaultStream, "s39oplimits")
	require.NoError(t, err)
	cfg := cons.CachedInfo().Config
	require.Equal(t, 2, cfg.MaxWaiting)
	require.Equal(t, 2, cfg.MaxRequestBatch, "the operator's limit erased")
	require.Equal(t, 3*time.Second, cfg.MaxRequestExpires, "the operator's limit erased")
	require.Equal(t, 1<<20, cfg.MaxRequestMaxBytes, "the operator's limit erased")
	// MaxAckPending 4 kept under the pull's cap of 2 (TestS40natsCappedPullStillWaits).
	require.Equal(t, 1, cfg.MaxAckPending)
}

// TestS39natsMaxAckPendingOverLimit: MaxAckPending above the server's
// JetStream limit max_ack_pending is refused when the durable consumer is
// made: NewConsumer returns the server's error (JetStream error code
// 10121), no Consumer stalls.
func TestS39natsMaxAckPendingOverLimit(t *testing.T) {
	srv := limitedServer(t, server.JSLimitOpts{MaxAckPending: 8})
	far := newNode(t)
	_, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s39ackpending", MaxAckPending: 9})
	var apiErr *jetstream.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, jetstream.ErrorCode(10121), apiErr.ErrorCode, "%v", err)
	far.close(t)
}

// TestS39natsPullLimits: the pull's batch and expiry within each limit of
// the durable consumer's configuration.
func TestS39natsPullLimits(t *testing.T) {
	info := func(cfg jetstream.ConsumerConfig) *jetstream.ConsumerInfo {
		return &jetstream.ConsumerInfo{Config: cfg}
	}
	for _, tc := range []struct {
		name   string
		info   *jetstream.ConsumerInfo
		maxAck int
		batch  int
		expiry time.Duration
	}{
		{"no info", nil, 1, 2, execPullExpiry},
		{"server defaults", info(jetstream.ConsumerConfig{MaxWaiting: 512}), 1, 2, execPullExpiry},
		{"MaxAckPending past MaxWaiting", info(jetstream.ConsumerConfig{MaxWaiting: 512}), 600, 512, execPullExpiry},
		{"MaxAckPending at MaxWaiting", info(jetstream.ConsumerConfig{MaxWaiting: 512}), 511, 512, execPullExpiry},
		{"MaxRequestBatch", info(jetstream.ConsumerConfig{MaxWaiting: 512, MaxRequestBatch: 3}), 10, 3, execPullExpiry},
		{"MaxRequestExpires", info(jetstream.ConsumerConfig{MaxRequestExpires: 2 * time.Second}), 1, 2, 2 * time.Second},
		{"MaxRequestExpires longer", info(jetstream.ConsumerConfig{MaxRequestExpires: time.Minute}), 1, 2, execPullExpiry},
	} {
		batch, expiry := pullLimits(tc.info, tc.maxAck)
		require.Equal(t, tc.batch, batch, tc.name)
		require.Equal(t, tc.expiry, expiry, tc.name)
	}
}

// TestS39natsOperatorLimitsChangedLive: an operator lowers the durable
// consumer's MaxRequestBatch under a running Consumer. The Consume's next
// full pull (after a reconnection here; at a pull's expiry too) asked for
// MaxAckPending+1 reports: refused (409 "Exceeded MaxRequestBatch of 2"),
// a plain error to nats.go, which does not count it back — the reports
// stalled for good. Such a refusal makes the Consumer read the durable
// consumer's limits again and consume within them.
//
// AckWait is an hour: a report the refused Consume had received when it
// was stopped came back only after AckWait (s39rvnats found it in ~5 % of
// runs under load; the test had AckWait 5 s until the resumer reset the
// durable consumer to its ack floor: TestS40natsRefusalKeepsBufferedReports).
func TestS39natsOperatorLimitsChangedLive(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 1)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}})
	nc := connect(t, srv.ClientURL(), nil)
	cons, err := NewConsumer(waitCtx(t), nc, far.d, far.pools.Events, &ConsumerOptions{Durable: "s39live", MaxAckPending: 4, AckWait: time.Hour})
	require.NoError(t, err)
	require.Equal(t, "1000", next(t, got, anyEvent).Exec.TradeID.String())

	jc, err := js.Consumer(waitCtx(t), DefaultStream, "s39live")
	require.NoError(t, err)
	cfg := jc.CachedInfo().Config
	cfg.MaxRequestBatch = 2
	_, err = js.UpdateConsumer(waitCtx(t), DefaultStream, cfg)
	require.NoError(t, err)
	require.NoError(t, nc.ForceReconnect())
	for i := 1; i < 4; i++ {
		ingest.publish(t, execReport(i))
	}
	// In any order: with MaxAckPending 4 a report the stopped Consume
	// got late is handed back, and may come after a later one (order is
	// kept with MaxAckPending 1 only).
	var ids []string
	for range 3 {
		ids = append(ids, next(t, got, anyEvent).Exec.TradeID.String())
	}
	require.ElementsMatch(t, []string{"1001", "1002", "1003"}, ids)
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// TestS39natsOperatorExpiresTooShort: an operator's MaxRequestExpires
// under a second is shorter than any pull nats.go makes (its least
// expiry): NewConsumer fails with nats.go's ErrInvalidOption rather than
// consume with pulls the server refuses.
func TestS39natsOperatorExpiresTooShort(t *testing.T) {
	srv, ingest, pub, js := storedReports(t, 1)
	_, err := js.CreateConsumer(waitCtx(t), DefaultStream, jetstream.ConsumerConfig{Durable: "s39short",
		AckPolicy: jetstream.AckExplicitPolicy, MaxRequestExpires: 500 * time.Millisecond})
	require.NoError(t, err)
	far := newNode(t)
	_, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Durable: "s39short"})
	require.ErrorIs(t, err, jetstream.ErrInvalidOption)
	require.NoError(t, pub.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}
