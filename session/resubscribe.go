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
// A write that fails while the connection is down is dropped: the next
// connection subscribes everything again, snapshots included. Any other
// failure is retried, paced, up to resubAttempts times.
type resubscriber struct {
	sh      *shard
	channel string // the book channel ("books", "orderbook.50", "level2")
	msgs    func(channel string, venueSym string) (unsub, sub []byte, err error)
	venue   func(canonical string) (string, error)
	pace    *pacer

	mu      sync.Mutex
	pending []string // canonical symbols, each once
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

// ask is book.Options.Resubscribe: it never blocks and never fails.
func (r *resubscriber) ask(_ context.Context, _ schema.Venue, symbol string) error {
	r.mu.Lock()
	if !slices.Contains(r.pending, symbol) {
		r.pending = append(r.pending, symbol)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

func (r *resubscriber) next() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return "", false
	}
	sym := r.pending[0]
	r.pending = r.pending[1:]
	return sym, true
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
			sym, ok := r.next()
			if !ok {
				break
			}
			if err := r.resubscribe(ctx, sym); err != nil {
				if ctx.Err() != nil {
					return
				}
				r.failed.Add(1)
				r.mu.Lock()
				r.tries[sym]++
				// (the connection changed between the pair's messages:
				// made again on the new one, a rotation's state may
				// still be Rotating)
				retry := r.tries[sym] < resubAttempts && (r.sh.client.State() == schema.ConnConnected || errors.Is(err, wsclient.ErrConnChanged))
				if !retry {
					delete(r.tries, sym)
				} else if !slices.Contains(r.pending, sym) {
					r.pending = append(r.pending, sym)
				}
				r.mu.Unlock()
				continue
			}
			r.mu.Lock()
			delete(r.tries, sym)
			r.mu.Unlock()
			r.sent.Add(1)
		}
	}
}

// resubscribe writes the unsubscribe and the subscribe of sym's book
// channel, each when the pacer allows, both on one connection (WriteConn):
// were the connection to change between them (a market rotation's switch,
// a redial), the subscribe alone would go on a connection that has the
// topic already (every subscription is made again on a new connection),
// which Bybit and Kraken refuse ("already subscribed") with no snapshot.
// It then fails with wsclient.ErrConnChanged, and run makes the pair
// again on the new connection.
func (r *resubscriber) resubscribe(ctx context.Context, sym string) error {
	vs, err := r.venue(sym)
	if err != nil {
		return err
	}
	unsub, sub, err := r.msgs(r.channel, vs)
	if err != nil {
		return err
	}
	conn := r.sh.client.Stats().ConnID // the connection Write would use now
	for _, m := range [][]byte{unsub, sub} {
		if err := r.pace.wait(ctx); err != nil {
			return err
		}
		if err := r.sh.client.WriteConn(ctx, conn, m); err != nil {
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
