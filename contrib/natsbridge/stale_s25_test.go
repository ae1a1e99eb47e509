package natsbridge

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS25LinkLossMarksStreamsStale: when the Consumer's NATS connection
// drops, every stream it brought is stale until its next update, and a
// strategy reading one symbol's best bid/offer must hear it on that
// stream, not only from a connection state of the venue "nats" it may
// not subscribe to (DESIGN: market data is never silently stale). The
// Consumer publishes, after its state, a gap marker about every venue it
// brought (GapType unknown: every stream of the venue, which dispatch
// routes to every market data subscriber of the venue, whatever its
// symbols and types, and which replaces the quotes still queued).
func TestS25LinkLossMarksStreamsStale(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Symbols: []string{"BTC-USDT"}, Types: []schema.EventType{schema.EventBBO}})
	okx := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueOKX}, Types: []schema.EventType{schema.EventTrade}})
	states := make(chan StateEvent, 64)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{OnState: func(e StateEvent) { states <- e }})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	bbo := tradeOf("BTC-USDT", 1)
	bbo.Type, bbo.Trade = schema.EventBBO, schema.Trade{}
	bbo.BBO.BidPrice = schema.MustParseDecimal("65000.1")
	raw.send(bbo, 1)
	require.Equal(t, schema.EventBBO, next(t, got, anyMarket).Type)
	tr := tradeOf("ETH-USDT", 1)
	tr.Venue = schema.VenueOKX
	raw.send(tr, 1)
	require.Equal(t, schema.EventTrade, next(t, okx, anyMarket).Type)

	srv.Stop()
	awaitState(t, states, schema.ConnDisconnected)
	for _, ch := range []<-chan *schema.CanonicalEvent{got, okx} {
		g := next(t, ch, anyMarket)
		require.Equal(t, schema.EventGap, g.Type, "the far side was not told its streams went stale")
		require.Equal(t, schema.EventUnknown, g.Control.GapType)
		require.Empty(t, g.Symbol)
		require.Equal(t, schema.GapRelay, g.Control.GapSource)
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// gateDialer dials addr unless it is down: a link that stays down while
// the server and the other clients are fine.
type gateDialer struct {
	addr string
	down atomic.Bool
}

func (d *gateDialer) Dial(network, _ string) (net.Conn, error) {
	if d.down.Load() {
		return nil, errors.New("link down")
	}
	return net.DialTimeout(network, d.addr, 2*time.Second)
}

// TestS25IngestLinkLossMarksStreamsStale: the ingest node's NATS link
// drops while the far side's stays up. What the Publisher published
// meanwhile past nats.go's reconnect buffer never arrived; an ordered
// stream shows it by its sequence at its next message, but a quote's loss
// shows nowhere, and the far side keeps the last quote it got, silently
// stale. Once the link is back the Publisher tells, on each such stream's
// subject, that its quotes were lost: a gap marker about the stream, which
// reaches its subscribers (and replaces a quote still queued there from
// before the loss).
func TestS25IngestLinkLossMarksStreamsStale(t *testing.T) {
	ll := newLinkLoss(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Symbols: []string{"BTC-USDT"}, Types: []schema.EventType{schema.EventBBO}})
	price := int64(0)
	quote := func(ev *schema.CanonicalEvent) {
		price++
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventBBO
		ev.BBO.BidPrice, ev.Raw = schema.NewDecimal(price, 1), make([]byte, 512)
	}
	ll.publish(t, quote)
	require.Equal(t, schema.EventBBO, next(t, ll.got, anyMarket).Type)
	ll.lose(t, 64, func(int) func(*schema.CanonicalEvent) { return quote }) // 32 KiB of quotes
	for {
		ev := next(t, ll.got, anyMarket)
		if ev.Type == schema.EventGap {
			require.Equal(t, schema.EventBBO, ev.Control.GapType)
			// The stream's own, or (since s34) the one about every symbol
			// of its type, which a lost link makes the Publisher send.
			require.Contains(t, []string{"BTC-USDT", ""}, ev.Symbol)
			break
		}
		require.Equal(t, schema.EventBBO, ev.Type)
		require.NotEqual(t, schema.NewDecimal(price, 1), ev.BBO.BidPrice, "the last quote came through: no loss left to tell")
	}
	ll.close(t)
}

// linkLoss is an ingest node whose NATS link can be taken down while the
// server and the far side's link stay up, and the far side: a Consumer
// and a collector of what f selects.
type linkLoss struct {
	srv       *embedded.Server
	ingest    *node
	far       *node
	dialer    *gateDialer
	nc        *nats.Conn
	pub       *Publisher
	pubStates chan StateEvent
	cons      *Consumer
	got       <-chan *schema.CanonicalEvent
	sent      uint64 // events published on the ingest node (publish)
}

func newLinkLoss(t *testing.T, f dispatch.Filter) *linkLoss {
	ll := &linkLoss{srv: startServer(t), ingest: newNode(t), far: newNode(t), pubStates: make(chan StateEvent, 64)}
	ll.dialer = &gateDialer{addr: ll.srv.Addr().String()}
	small := &ConnectOptions{ReconnectBuf: 4 << 10, Extra: []nats.Option{nats.SetCustomDialer(ll.dialer)}}
	ll.nc = connect(t, ll.srv.ClientURL(), small)
	var err error
	ll.pub, err = NewPublisher(waitCtx(t), ll.nc, ll.ingest.d,
		&PublisherOptions{OnState: func(e StateEvent) { ll.pubStates <- e }, Lanes: dispatch.SubscribeOptions{OrderedBound: 1 << 16}})
	require.NoError(t, err)
	ll.got = ll.far.collect(t, f)
	ll.cons, err = NewConsumer(waitCtx(t), connect(t, ll.srv.ClientURL(), nil), ll.far.d, ll.far.pools.Events, nil)
	require.NoError(t, err)
	return ll
}

// lose takes the ingest node's link down, publishes n events there (the
// i-th filled by fill(i)), far past the 4 KiB reconnect buffer, and brings
// the link back.
func (ll *linkLoss) lose(t *testing.T, n int, fill func(i int) func(*schema.CanonicalEvent)) {
	ll.dialer.down.Store(true)
	id, err := ll.nc.GetClientID()
	require.NoError(t, err)
	require.NoError(t, ll.srv.DisconnectClientByID(id))
	awaitState(t, ll.pubStates, schema.ConnReconnecting)
	for i := range n {
		ll.publish(t, fill(i))
	}
	require.Positive(t, ll.pub.Stats().Dropped, "the reconnect buffer is bounded")
	ll.dialer.down.Store(false)
	awaitState(t, ll.pubStates, schema.ConnConnected)
}

// publish publishes one event on the ingest node and waits until the
// Publisher has handled it (its lane counts it delivered, or coalesced),
// so that the next one is never coalesced with it. It counts what was
// published: the lane's counters from before are no base to count from,
// as the lane counts an event delivered after its handler returns, and the
// far side may have received it by then — a lane behind by one made
// "Delivered == base+i+1" never true (30 s, then a failure, under load).
func (ll *linkLoss) publish(t *testing.T, fill func(*schema.CanonicalEvent)) {
	ll.ingest.publish(t, fill)
	ll.sent++
	eventually(t, func() bool { st := ll.pub.Stats().Lane; return st.Delivered+st.Coalesced == ll.sent }, "the publisher handled the event")
}

func (ll *linkLoss) close(t *testing.T) {
	require.NoError(t, ll.pub.Close(closeCtx(t)))
	require.NoError(t, ll.cons.Close(closeCtx(t)))
	ll.ingest.close(t)
	ll.far.close(t)
}

// TestS25QueueOverflowKeepsLatestQuote: a burst past the Consumer's
// pending bounds drops what arrives while its queue is full — the newest
// messages. For a quote that was the freshest of its stream: the far side
// then delivered the older ones queued and kept the last of them as the
// stream's state, silently stale, until the stream's next update (which
// may not come for long after a burst). Latest-wins (DESIGN, contract 4)
// means the newest quote of each stream that the queue could not hold is
// kept and delivered once there is room, unless a newer one of the stream
// gets in first.
func TestS25QueueOverflowKeepsLatestQuote(t *testing.T) {
	far, got, cons, raw, taken := overflowing(t)
	quote := func(sym string, px int64) *schema.CanonicalEvent {
		ev := tradeOf(sym, 1)
		ev.Type, ev.Trade = schema.EventBBO, schema.Trade{}
		ev.BBO.BidPrice = schema.NewDecimal(px, 1)
		return ev
	}
	cons.mu.Lock() // the consumer's goroutine stalls: its queue fills
	const n = 40
	var sent uint64
	for px := int64(1); px <= n; px++ {
		raw.send(quote("BTC-USDT", px), uint64(px))
		sent++
		eventually(t, func() bool { return taken() >= sent-1 }, "the queue took the message") // one may be in onMsg's hands
	}
	raw.send(quote("ETH-USDT", 7), 1)
	require.Positive(t, cons.q.droppedCount(), "the queue never overflowed: the test tests nothing")
	cons.mu.Unlock()
	last := map[string]schema.Decimal{}
	for last["BTC-USDT"] != schema.NewDecimal(n, 1) || last["ETH-USDT"] != schema.NewDecimal(7, 1) {
		ev := next(t, got, anyMarket)
		require.Equal(t, schema.EventBBO, ev.Type)
		last[ev.Symbol] = ev.BBO.BidPrice
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// TestS25NATSDropsMarkStreamsStale: nats.go drops a subscription's
// messages when the channel it hands them on is full (a slow consumer,
// "nats: slow consumer, messages dropped" — nats-io/nats.go#1083 and many
// reports like it), counted but not named. A quote lost there leaves its
// stream stale, unseen; once the Consumer has caught up it tells every
// venue it brought, as for a lost connection.
func TestS25NATSDropsMarkStreamsStale(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Symbols: []string{"BTC-USDT"}, Types: []schema.EventType{schema.EventBBO}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{PendingMsgs: 4})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	quote := func(px int64) *schema.CanonicalEvent {
		ev := tradeOf("BTC-USDT", 1)
		ev.Type, ev.Trade = schema.EventBBO, schema.Trade{}
		ev.BBO.BidPrice = schema.NewDecimal(px, 1)
		return ev
	}
	raw.send(quote(1), 1)
	require.Equal(t, schema.EventBBO, next(t, got, anyMarket).Type)
	cons.q.mu.Lock() // the pump stalls on the queue: nats.go's channel fills and it drops
	for px := int64(2); px <= 40; px++ {
		raw.send(quote(px), uint64(px))
	}
	eventually(t, func() bool { // not slowDropped: it takes the queue's lock, held here
		for _, s := range cons.subs {
			if n, err := s.Dropped(); err == nil && n > 0 {
				return true
			}
		}
		return false
	}, "nats.go dropped")
	cons.q.mu.Unlock()
	for {
		ev := next(t, got, anyMarket)
		if ev.Type == schema.EventGap {
			require.Equal(t, schema.EventUnknown, ev.Control.GapType)
			break
		}
		require.Equal(t, schema.EventBBO, ev.Type)
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
