package session

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// resubscriber gets a broken book (a sequence gap, a checksum mismatch, a
// crossed book, on a live connection) a new snapshot from the venue: it
// unsubscribes the book's channel for the book's symbol and subscribes it
// again on the shard's connection, and the venue answers the subscription
// with a snapshot (OKX, Bybit, Coinbase; Bybit refuses a topic the
// connection already has, so the unsubscribe comes first). It is the
// books' book.Options.Resubscribe: the book asks on the goroutine applying
// events (the connection's reader), so asking only records the symbol and
// wakes the resubscriber's own goroutine, which writes, paced (see pacer).
//
// A resubscription belongs to the connection the book broke on (the one
// current when the book asked: its data is what the book applied). When
// that connection is lost — before the unsubscribe, between it and the
// subscribe, or while the ask waits its turn — what is left of it is
// dropped, never written on the next connection: that one subscribes
// every book again as it connects (Subscriptions), the loss invalidated
// the book, and the book waits for that subscription's snapshot (asking
// again on its own if diffs come first). Written there, the old
// connection's pair unsubscribed the book the new connection had just
// subscribed, then subscribed it again: a needless pair, and a book
// dark for good on any order of the two that left it unsubscribed. A
// connection a rotation replaced without a loss (the streams joined: the
// book goes on with the new connection's diffs, and its subscription's
// snapshot was the old stream's repeat, never applied) hands the
// resubscription to the new connection: made there whole. Asks are told
// apart by their connection, never by the session's events, so a stale
// event of an old connection cannot cancel a resubscription the new one
// asked for. Any other failure on the live connection is retried, paced,
// up to resubAttempts times.
type resubscriber struct {
	sh      *shard
	channel string // the book channel ("books", "orderbook.50", "level2")
	msgs    func(channel string, venueSym string) (unsub, sub []byte, err error)
	venue   func(canonical string) (string, error)
	pace    *pacer

	mu      sync.Mutex
	pending []resubAsk // one per symbol, of its latest ask
	tries   map[string]int
	wake    chan struct{}

	sent, failed atomic.Uint64
}

// newResubscriber returns the resubscriber of sh's books, kept by channel.
func (s *Session) newResubscriber(sh *shard, channel string) *resubscriber {
	clock := s.cfg.Client.Clock
	spec := s.spec
	budget, burst := spec.resubBudget(len(sh.subs)) // the connection's own subscription messages count too
	return &resubscriber{
		sh: sh, channel: channel, venue: s.syms.VenueSymbol,
		msgs: func(ch, vs string) (unsub, sub []byte, err error) {
			if unsub, err = spec.unsubscribe(ch, []string{vs}); err != nil {
				return nil, nil, err
			}
			sub, err = spec.subscribe(ch, []string{vs})
			return unsub, sub, err
		},
		// The budget alone: the gap between messages is the connection's
		// own pacer's (Options.PaceWrites, set in buildShards), shared
		// with every other message the connection sends.
		pace:  newPacer(clock, 0, budget, burst),
		tries: map[string]int{},
		wake:  make(chan struct{}, 1),
	}
}

// startResubscribers starts the goroutine of each shard's resubscriber;
// Close stops them first.
func (s *Session) startResubscribers() {
	ctx, stop := context.WithCancel(context.Background())
	s.resubStop = stop
	for _, sh := range s.shards {
		if sh.resub == nil {
			continue
		}
		s.resubWG.Add(1)
		go func() {
			defer s.resubWG.Done()
			sh.resub.run(ctx)
		}()
	}
}

// resubAttempts bounds the writes of one resubscription that fail on a
// live connection.
const resubAttempts = 3

// resubAsk is one book's resubscription and the connection it belongs
// to: conn, the connection current when the book asked (wsclient's
// ConnID; 0: none was), and lost, the client's connections lost by then
// (wsclient Stats.TotalReconnects).
type resubAsk struct {
	sym  string
	conn uint64
	lost uint64
}

// ask is book.Options.Resubscribe: it never blocks and never fails. The
// book asks while applying its connection's data, on that connection's
// reader, so the current connection is the one it broke on (wsclient
// hands the handler data of the live connection only, a rotation's old
// one's before its switch, the new one's after). An ask of a symbol
// already pending takes its place: the latest connection's.
func (r *resubscriber) ask(_ context.Context, _ schema.Venue, symbol string) error {
	st := r.sh.client.Stats()
	a := resubAsk{sym: symbol, conn: st.ConnID, lost: st.TotalReconnects()}
	r.mu.Lock()
	if i := slices.IndexFunc(r.pending, func(p resubAsk) bool { return p.sym == symbol }); i >= 0 {
		r.pending[i] = a
	} else {
		r.pending = append(r.pending, a)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

func (r *resubscriber) next() (resubAsk, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return resubAsk{}, false
	}
	a := r.pending[0]
	r.pending = r.pending[1:]
	return a, true
}

// follow returns a on the current connection: a's own, or the one a
// rotation put in its place with no connection lost since a was asked.
// It reports false when a's connection is gone otherwise (lost, or none
// was current when a was asked): a is dropped then. wsclient counts a
// loss before it dials the next connection, and clears the current
// connection first: a current connection other than a's with the count
// unchanged is a rotation's.
func (r *resubscriber) follow(a resubAsk) (resubAsk, bool) {
	st := r.sh.client.Stats()
	if a.conn == 0 || st.ConnID == 0 || st.TotalReconnects() != a.lost {
		return a, false
	}
	a.conn = st.ConnID
	return a, true
}

// run serves the asks until ctx ends.
func (r *resubscriber) run(ctx context.Context) {
	for {
		select {
		case <-r.wake:
		case <-ctx.Done():
			return
		}
		for {
			a, ok := r.next()
			if !ok {
				break
			}
			a, ok = r.follow(a)
			if !ok {
				r.forget(a.sym) // its connection was lost: the next one subscribed it
				continue
			}
			if err := r.resubscribe(ctx, a); err != nil {
				if ctx.Err() != nil {
					return
				}
				r.failed.Add(1)
				// The connection changed between the pair's messages
				// (ErrConnChanged; ErrNotConnected while it is down): the
				// next round's follow makes the pair again on a rotation's
				// new connection, or drops it after a loss.
				changed := errors.Is(err, wsclient.ErrConnChanged) || errors.Is(err, wsclient.ErrNotConnected)
				r.mu.Lock()
				r.tries[a.sym]++
				retry := r.tries[a.sym] < resubAttempts && (changed || r.sh.client.Stats().ConnID == a.conn)
				if !retry {
					delete(r.tries, a.sym)
				} else if !slices.ContainsFunc(r.pending, func(p resubAsk) bool { return p.sym == a.sym }) {
					r.pending = append(r.pending, a)
				}
				r.mu.Unlock()
				continue
			}
			r.forget(a.sym)
			r.sent.Add(1)
		}
	}
}

// forget ends sym's run of failed attempts.
func (r *resubscriber) forget(sym string) {
	r.mu.Lock()
	delete(r.tries, sym)
	r.mu.Unlock()
}

// resubscribe writes the unsubscribe and the subscribe of a's book
// channel, each when the pacer allows, both on a's connection
// (WriteConn): were the connection to change between them (a market
// rotation's switch, a redial), the subscribe alone would go on a
// connection that has the topic already (every subscription is made
// again on a new connection), which Bybit and Kraken refuse ("already
// subscribed") with no snapshot; nor does anything go on a connection
// the book did not ask on. It then fails with wsclient.ErrConnChanged
// (or ErrNotConnected), and run follows the connection (follow).
func (r *resubscriber) resubscribe(ctx context.Context, a resubAsk) error {
	vs, err := r.venue(a.sym)
	if err != nil {
		return err
	}
	unsub, sub, err := r.msgs(r.channel, vs)
	if err != nil {
		return err
	}
	for _, m := range [][]byte{unsub, sub} {
		if err := r.pace.wait(ctx); err != nil {
			return err
		}
		if err := r.sh.client.WriteConn(ctx, a.conn, m); err != nil {
			return err
		}
	}
	return nil
}

// pacer keeps a connection's resubscription messages within a token
// bucket of the venue's budget of subscription requests where it has one
// (OKX: 480 subscribe/unsubscribe/login requests per connection per
// hour, OKX API v5 "WebSocket" limits, less the connection's own
// subscription messages: venueSpec.resubBudget); with a controlRate it
// spaces them 1/controlRate apart too. The session's resubscribers give
// none: their messages are paced by the connection itself
// (wsclient Options.PaceWrites), in one line with its subscriptions,
// heartbeats, pings and pongs — a second pacer beside it would let the
// connection send twice its ControlRate (the venue's limit counts them
// all: Binance "WebSocket Limits", 5 per second per connection).
// Coinbase's 8 messages per second per IP (Advanced Trade "WebSocket
// Rate Limits") is kept by ControlRate, shared among the market
// connections. Its waits are on the client's Clock.
type pacer struct {
	clock  wsclient.Clock
	gap    time.Duration // least time between two messages; 0: none
	rate   float64       // budget refill, messages per second; 0: no budget
	burst  float64
	tokens float64
	last   time.Time // of the last message
	filled time.Time // of the last refill
}

func newPacer(clock wsclient.Clock, controlRate, rate, burst float64) *pacer {
	p := &pacer{clock: clock, rate: rate, burst: burst, tokens: burst}
	if controlRate > 0 {
		p.gap = time.Duration(float64(time.Second) / controlRate)
	}
	return p
}

// wait returns when a message may be sent, or ctx's error.
func (p *pacer) wait(ctx context.Context) error {
	for {
		now := p.clock.Now()
		notAfter(&p.last, now)
		notAfter(&p.filled, now)
		var d time.Duration
		if !p.last.IsZero() && p.gap > 0 {
			d = p.gap - now.Sub(p.last)
		}
		if p.rate > 0 {
			if !p.filled.IsZero() {
				p.tokens = min(p.burst, p.tokens+now.Sub(p.filled).Seconds()*p.rate)
			}
			p.filled = now
			if p.tokens < 1 {
				d = max(d, time.Duration((1-p.tokens)/p.rate*float64(time.Second)))
			}
		}
		if d <= 0 {
			p.last = now
			if p.rate > 0 {
				p.tokens--
			}
			return nil
		}
		if err := p.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}
