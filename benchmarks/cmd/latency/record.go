package main

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/meltica/meltica/schema"
)

// The stages of one message, each a wall-clock stamp in Unix ns:
//
//	due        start + i/rate: when the schedule wanted it sent
//	sent       taken by the sender just before writing it (Trade.Qty)
//	read       the whole frame read by the client (IngestTS, from
//	           schema.WsFrame.ReceivedAt for Meltica)
//	parsed     the canonical event handed to fan-out (TraceID, stamped by
//	           the harness's sink in front of the dispatcher)
//	delivered  the subscriber's handler called with it
const (
	stageTotal   = iota // due → delivered: the coordinated-omission-free latency
	stageFromTx         // sent → delivered
	stageSender         // due → sent: the sender's own lateness
	stageRead           // sent → read: kernel, loopback, WebSocket read
	stageParse          // read → parsed: envelope, JSON, canonical event
	stageDeliver        // parsed → delivered: fan-out, queue, goroutine hop
	numStages
)

var stageNames = [numStages]string{"due→delivered", "sent→delivered", "due→sent", "sent→read", "read→parsed", "parsed→delivered"}

// recorder takes each stage's latency at the first subscriber once the
// warm-up is over, in ns.
type recorder struct {
	mu       sync.Mutex
	hist     [numStages]*hdrhistogram.Histogram
	start    atomic.Int64  // Unix ns when message 0 is due; set before any is sent
	interval time.Duration // between messages
	from, to uint64        // message ids measured: [from, to)
	seen     atomic.Uint64
	done     chan struct{}
	once     sync.Once
}

func newRecorder(interval time.Duration, from, to uint64) *recorder {
	r := &recorder{interval: interval, from: from, to: to, done: make(chan struct{})}
	for i := range r.hist {
		r.hist[i] = hdrhistogram.New(1, int64(time.Minute), 3)
	}
	return r
}

// record takes one delivered trade: its id is its message number, its
// quantity's mantissa the send stamp. Other events (Meltica's gap markers
// for trades its lane dropped) are not latencies; the drops show as lost.
func (r *recorder) record(ev *schema.CanonicalEvent, delivered int64) {
	if ev.Type != schema.EventTrade {
		return
	}
	id := ev.SeqProvider
	if id < r.from {
		return
	}
	if id >= r.to {
		r.once.Do(func() { close(r.done) })
		return
	}
	due := r.start.Load() + int64(time.Duration(id)*r.interval)
	sent := ev.Trade.Qty.Mantissa()
	if ev.Trade.Qty.Scale() != 9 {
		sent = due // not a harness message; cannot happen
	}
	read, parsed := ev.IngestTS, int64(ev.TraceID)
	v := [numStages]int64{delivered - due, delivered - sent, sent - due, read - sent, parsed - read, delivered - parsed}
	r.mu.Lock()
	for i, x := range v {
		_ = r.hist[i].RecordValue(max(x, 1))
	}
	r.mu.Unlock()
	r.seen.Add(1)
}
