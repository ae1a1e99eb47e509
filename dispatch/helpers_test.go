package dispatch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// patience bounds every wait of these tests on something another goroutine
// does: a deadline for a machine loaded 10-25 times over (HELPERS.md asks
// 30 s at least), never a measurement.
const patience = 60 * time.Second

func newEventPool(capacity int) *pool.Pool[*schema.CanonicalEvent] {
	return pool.New("events", capacity, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
}

// take returns a pooled event of the given stream and sequence.
func take(t testing.TB, p *pool.Pool[*schema.CanonicalEvent], v schema.Venue, sym string, typ schema.EventType, seq uint64) *schema.CanonicalEvent {
	t.Helper()
	ev, err := p.TryGet()
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = v, sym, typ, seq
	ev.IngestTS = time.Now().UnixNano()
	return ev
}

// publish publishes one pooled event and requires success.
func publish(t testing.TB, d *Dispatcher, p *pool.Pool[*schema.CanonicalEvent], v schema.Venue, sym string, typ schema.EventType, seq uint64) {
	t.Helper()
	require.NoError(t, d.Publish(context.Background(), take(t, p, v, sym, typ, seq)))
}

// closeDispatcher closes d and requires that everything was delivered.
func closeDispatcher(t testing.TB, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	require.NoError(t, d.Close(ctx))
}

// recorder is a handler that keeps what it receives. With a gate, it
// announces each event on entered and waits for a token on gate before
// returning.
type recorder struct {
	mu      sync.Mutex
	events  []*schema.CanonicalEvent
	gate    chan struct{}
	entered chan *schema.CanonicalEvent
}

func newGatedRecorder() *recorder {
	return &recorder{gate: make(chan struct{}), entered: make(chan *schema.CanonicalEvent, 1<<16)}
}

func (r *recorder) handle(ev *schema.CanonicalEvent) {
	if r.entered != nil {
		r.entered <- ev
	}
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) got() []*schema.CanonicalEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*schema.CanonicalEvent(nil), r.events...)
}

// waitEntered waits for the handler to be called, or fails.
func (r *recorder) waitEntered(t testing.TB) *schema.CanonicalEvent {
	t.Helper()
	select {
	case ev := <-r.entered:
		return ev
	case <-time.After(patience):
		t.Fatal("handler was not called")
		return nil
	}
}

// open lets every blocked and later call of the handler through.
func (r *recorder) open() { close(r.gate) }

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, cond func() bool, msg string) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(patience)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("timed out waiting: " + msg)
		}
	}
}

func waitDone(t testing.TB, s *Subscription) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(patience):
		t.Fatal("subscription goroutine did not exit")
	}
}

// describe renders an event for comparisons: type, symbol and sequence, or
// the gap a marker reports.
type seen struct {
	Type   schema.EventType
	Symbol string
	Seq    uint64
	Gap    schema.Control
}

func describe(evs []*schema.CanonicalEvent) []seen {
	out := make([]seen, len(evs))
	for i, ev := range evs {
		out[i] = seen{Type: ev.Type, Symbol: ev.Symbol, Seq: ev.SeqProvider}
		if ev.Type == schema.EventGap && ev.Control != nil {
			out[i].Gap = *ev.Control
		}
	}
	return out
}

// stalled subscribes a gated recorder to everything on d, publishes one
// event of type first (sequence 1) and waits until the handler holds it:
// from then on, everything published waits in the subscription's lanes
// until the recorder is opened.
func stalled(t testing.TB, d *Dispatcher, p *pool.Pool[*schema.CanonicalEvent], opts SubscribeOptions, first schema.EventType) (*recorder, *Subscription) {
	t.Helper()
	r := newGatedRecorder()
	opts.Handler = r.handle
	s, err := d.Subscribe(Filter{}, &opts)
	require.NoError(t, err)
	publish(t, d, p, bin, "BTC-USDT", first, 1)
	r.waitEntered(t)
	return r, s
}
