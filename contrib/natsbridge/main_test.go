package natsbridge

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// nats-server's access-time ticker is its process-wide singleton
// (embedded.AccessTimeTicker), not a goroutine of ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(embedded.AccessTimeTicker))
}

// startServer runs an embedded NATS server with JetStream for one test.
func startServer(tb testing.TB) *embedded.Server {
	tb.Helper()
	s, err := embedded.Start(tb.TempDir(), 0)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Stop() })
	return s
}

func connect(tb testing.TB, url string, opts *ConnectOptions) *nats.Conn {
	tb.Helper()
	nc, err := Connect(url, opts)
	require.NoError(tb, err)
	tb.Cleanup(nc.Close)
	return nc
}

// node is one host's pools and dispatcher.
type node struct {
	pools *schema.Pools
	d     *dispatch.Dispatcher
}

func newNode(tb testing.TB) *node {
	tb.Helper()
	n := &node{pools: schema.NewPools(nil)}
	n.d = dispatch.New(n.pools.Events, nil)
	return n
}

// close closes the dispatcher and checks every pooled object came back.
func (n *node) close(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(tb, n.d.Close(ctx))
	require.NoError(tb, n.pools.Shutdown(ctx))
}

// publish fills a pooled event and publishes it on the node's dispatcher.
func (n *node) publish(tb testing.TB, fill func(ev *schema.CanonicalEvent)) {
	tb.Helper()
	ev, err := n.pools.Events.Get(context.Background())
	require.NoError(tb, err)
	fill(ev)
	require.NoError(tb, n.d.Publish(context.Background(), ev))
}

// collect subscribes to the node's dispatcher and returns a channel of what
// arrives, buffered so that the test never slows the subscriber.
func (n *node) collect(tb testing.TB, f dispatch.Filter) <-chan *schema.CanonicalEvent {
	tb.Helper()
	out := make(chan *schema.CanonicalEvent, 1<<16)
	_, err := n.d.Subscribe(f, &dispatch.SubscribeOptions{OrderedBound: 1 << 16, Handler: func(ev *schema.CanonicalEvent) { out <- ev }})
	require.NoError(tb, err)
	return out
}

// next waits for the next event on ch that keep accepts.
func next(tb testing.TB, ch <-chan *schema.CanonicalEvent, keep func(*schema.CanonicalEvent) bool) *schema.CanonicalEvent {
	tb.Helper()
	timeout := time.After(generous)
	for {
		select {
		case ev := <-ch:
			if keep(ev) {
				return ev
			}
		case <-timeout:
			tb.Fatal("timed out waiting for an event")
			return nil
		}
	}
}

// eventually polls cond until it holds or generous has passed.
func eventually(tb testing.TB, cond func() bool, msg string, args ...any) {
	tb.Helper()
	require.Eventually(tb, cond, generous, time.Millisecond, append([]any{msg}, args...)...)
}

func ofType(t schema.EventType) func(*schema.CanonicalEvent) bool {
	return func(ev *schema.CanonicalEvent) bool { return ev.Type == t }
}

// generous bounds every wait on the server or on an event in these tests.
// On a loaded two-core machine under -race an embedded JetStream server's
// answer (creating the stream on file storage, a durable consumer) took
// longer than nats.go's 5 s default, which NewPublisher and NewConsumer
// apply to a context without a deadline.
const generous = 30 * time.Second

// waitCtx is the context for a call that waits on the server: NewPublisher,
// NewConsumer, Close.
func waitCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	tb.Cleanup(cancel)
	return ctx
}

func closeCtx(tb testing.TB) context.Context { return waitCtx(tb) }
