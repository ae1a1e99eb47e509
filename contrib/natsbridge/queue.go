package natsbridge

import (
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// msgQueue is the consumer's queue of core messages, bounded in messages
// and bytes: a message past either bound is dropped and counted (a slow
// consumer), as nats.go's pending limits do for a subscription of its own.
// But the newest quote of each coalescable stream among them (a subject,
// a live kline's interval, a ticker's window and kind) is kept, and handed out once the queue is
// empty, unless a newer message of the stream got into the queue first:
// what a burst drops is the newest, and without it the far side would keep the older quote queued
// before as the stream's state, stale until its next update (latest wins).
// The kept quotes are bounded like the queue. It is safe for concurrent
// use.
type msgQueue struct {
	maxMsgs, maxBytes int
	wake              chan struct{} // signalled on push

	mu      sync.Mutex
	buf     []*nats.Msg
	head    int
	bytes   int
	dropped uint64
	// latest are the newest quotes dropped, by stream, and their bytes;
	// inLatest counts them by subject, so that a message queued looks for
	// one it supersedes with a map lookup only (it decodes a kline's
	// interval when its subject has one kept).
	latest      map[latestKey]*nats.Msg
	inLatest    map[string]int
	latestBytes int
	dec         wire.Decoder
	scratch     wire.Scratch
}

// latestKey is a stream of quotes: a subject, the symbol when the subject's
// symbol token may be shared, and a live kline's interval or a ticker's
// window (a subject carries a symbol's klines of every interval and its
// tickers of every window, each a stream of its own, which dispatch
// coalesces apart).
type latestKey struct {
	subject, symbol, interval string
	windowed                  bool // a ticker stating its window: a stream apart (see quoteView)
}

// keyOf returns the stream of m, a quote of type typ or a gap marker
// about one (typ EventGap: it travels on its stream's subject and names
// the view, so it supersedes the quote kept from before it). It decodes m
// only for a live kline, a ticker or a marker (the interval, the window)
// and for a subject whose
// symbol token holds '_': symbols that differ only in characters a token
// cannot hold ("BTC.USDT", "BTC_USDT") share it and are two streams (see
// Subject).
func (q *msgQueue) keyOf(m *nats.Msg, typ schema.EventType) latestKey {
	k := latestKey{subject: m.Subject}
	shared := sharedSymbolToken(m.Subject)
	if typ == schema.EventKlineLive || typ == schema.EventTicker || typ == schema.EventGap || shared {
		if _, _, err := q.dec.DecodeScratch(m.Data, &q.scratch); err == nil {
			s := &q.scratch.CanonicalEvent
			k.interval = s.KlineInterval()
			if typ == schema.EventGap {
				typ = s.GapType() // a marker names the ticker's window and kind as its stream's events do
			}
			if typ == schema.EventTicker {
				k.interval = s.TickerWindow() // a ticker's view is its window, as dispatch keys it (see viewOf)
				k.windowed = s.TickerWindowClose() != 0
			}
			if shared {
				k.symbol = q.scratch.Symbol
			}
		}
	}
	return k
}

// sharedSymbolToken reports whether the symbol token of subj
// (prefix.venue.symbol.type) holds '_', which token writes for the
// characters a subject cannot hold and for an empty symbol: more than one
// symbol may have it.
func sharedSymbolToken(subj string) bool {
	end := strings.LastIndexByte(subj, '.')
	if end < 0 {
		return false
	}
	start := strings.LastIndexByte(subj[:end], '.')
	return strings.IndexByte(subj[start+1:end], '_') >= 0
}

// forgetLocked removes the kept quote of stream k.
func (q *msgQueue) forgetLocked(k latestKey) {
	l := q.latest[k]
	if l == nil {
		return
	}
	delete(q.latest, k)
	q.latestBytes -= msgSize(l)
	if q.inLatest[k.subject]--; q.inLatest[k.subject] <= 0 {
		delete(q.inLatest, k.subject)
	}
}

// forgetCoveredLocked removes the kept quotes that m, a gap marker naming
// no symbol or no type, reports on: it travels on its venue's subject
// (symbol token "_") or its symbol's gap subject, not on theirs, and they
// are from before the loss it announces; handed out after it, each passed
// for its stream's state after the loss. Covered are the kept quotes of
// its prefix and venue, of its type when it names one, of its symbol when
// it names one, as dispatch covers a queue. A marker about one stream
// supersedes its kept quote as any message of the stream does (push).
func (q *msgQueue) forgetCoveredLocked(m *nats.Msg) {
	if _, _, err := q.dec.DecodeScratch(m.Data, &q.scratch); err != nil {
		return
	}
	g := &q.scratch.CanonicalEvent
	t := g.GapType()
	if g.Symbol != "" && t != schema.EventUnknown {
		return
	}
	prefix, _, _, _, ok := subjectTokens(m.Subject)
	if !ok {
		return
	}
	venue, symbol, typ := token(string(g.Venue)), token(g.Symbol), t.String()
	for k := range q.latest {
		p, v, sy, ty, ok := subjectTokens(k.subject)
		if !ok || p != prefix || v != venue ||
			(t != schema.EventUnknown && ty != typ) ||
			(g.Symbol != "" && (sy != symbol || k.symbol != "" && k.symbol != g.Symbol)) {
			continue
		}
		q.forgetLocked(k)
	}
}

// subjectTokens splits subj, prefix.venue.symbol.type (the prefix may hold
// dots), into its prefix and last three tokens.
func subjectTokens(subj string) (prefix, venue, symbol, typ string, ok bool) {
	i := strings.LastIndexByte(subj, '.')
	if i < 0 {
		return "", "", "", "", false
	}
	typ, subj = subj[i+1:], subj[:i]
	if i = strings.LastIndexByte(subj, '.'); i < 0 {
		return "", "", "", "", false
	}
	symbol, subj = subj[i+1:], subj[:i]
	if i = strings.LastIndexByte(subj, '.'); i < 0 {
		return "", "", "", "", false
	}
	return subj[:i], subj[i+1:], symbol, typ, true
}

func newMsgQueue(maxMsgs, maxBytes int) *msgQueue {
	return &msgQueue{maxMsgs: maxMsgs, maxBytes: maxBytes, wake: make(chan struct{}, 1), buf: make([]*nats.Msg, 0, min(maxMsgs, 1024))}
}

func msgSize(m *nats.Msg) int { return len(m.Subject) + len(m.Data) }

// push queues m, or drops it past a bound.
func (q *msgQueue) push(m *nats.Msg) {
	size := msgSize(m)
	q.mu.Lock()
	n := len(q.buf) - q.head
	if n >= q.maxMsgs || (n > 0 && q.bytes+size > q.maxBytes) {
		q.dropped++
		q.keepLocked(m, size)
		q.mu.Unlock()
		return
	}
	if len(q.inLatest) > 0 && q.inLatest[m.Subject] > 0 { // a kept quote of its stream is superseded by m
		if typ, ok := wire.Type(m.Data); ok {
			k := q.keyOf(m, typ)
			q.forgetLocked(k)
			if typ == schema.EventGap && q.scratch.GapType() == schema.EventTicker && !k.windowed {
				// A marker that names no window is about the symbol's
				// tickers, both kinds; one that names it (a subscriber
				// queue's about a full ticker, relayed) about the full
				// ticker only, as dispatch covers a queue.
				k.windowed = true
				q.forgetLocked(k)
			}
		}
	}
	if len(q.latest) > 0 {
		if typ, ok := wire.Type(m.Data); ok && typ == schema.EventGap {
			q.forgetCoveredLocked(m)
		}
	}
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		k := copy(q.buf, q.buf[q.head:])
		clear(q.buf[k:])
		q.buf, q.head = q.buf[:k], 0
	}
	q.buf = append(q.buf, m)
	q.bytes += size
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// keepLocked keeps m, dropped, when it is a quote: the newest of its
// stream, within the queue's bounds.
func (q *msgQueue) keepLocked(m *nats.Msg, size int) {
	typ, ok := wire.Type(m.Data)
	if !ok || !typ.Coalescable() {
		return
	}
	k := q.keyOf(m, typ)
	old := q.latest[k]
	if old == nil && (len(q.latest) >= q.maxMsgs || q.latestBytes+size > q.maxBytes) {
		return
	}
	if q.latest == nil {
		q.latest, q.inLatest = make(map[latestKey]*nats.Msg), make(map[string]int)
	}
	if old != nil {
		q.latestBytes -= msgSize(old)
	} else {
		q.inLatest[k.subject]++
	}
	q.latest[k] = m
	q.latestBytes += size
}

// pop returns the oldest message, or once none is queued a kept quote, or
// nil.
func (q *msgQueue) pop() *nats.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.buf) {
		for k, m := range q.latest {
			q.forgetLocked(k)
			return m
		}
		return nil
	}
	m := q.buf[q.head]
	q.buf[q.head] = nil
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	q.bytes -= msgSize(m)
	return m
}

func (q *msgQueue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
