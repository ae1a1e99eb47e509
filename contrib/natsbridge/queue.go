package natsbridge

import (
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
)

// msgQueue is the consumer's queue of core messages, bounded in messages
// and bytes: a message past either bound is dropped and counted (a slow
// consumer), as nats.go's pending limits do for a subscription of its own.
// But the newest quote of a coalescable stream among them is kept, per
// subject, and handed out once the queue is empty, unless a newer message
// of the subject got into the queue first: what a burst drops is the
// newest, and without it the far side would keep the older quote queued
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
	// latest are the newest quotes dropped, by subject, and their bytes.
	latest      map[string]*nats.Msg
	latestBytes int
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
	if l := q.latest[m.Subject]; l != nil { // superseded by m
		delete(q.latest, m.Subject)
		q.latestBytes -= msgSize(l)
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
// subject, within the queue's bounds.
func (q *msgQueue) keepLocked(m *nats.Msg, size int) {
	if typ, ok := wire.Type(m.Data); !ok || !typ.Coalescable() {
		return
	}
	old := q.latest[m.Subject]
	if old == nil && (len(q.latest) >= q.maxMsgs || q.latestBytes+size > q.maxBytes) {
		return
	}
	if q.latest == nil {
		q.latest = make(map[string]*nats.Msg)
	}
	if old != nil {
		q.latestBytes -= msgSize(old)
	}
	q.latest[m.Subject] = m
	q.latestBytes += size
}

// pop returns the oldest message, or once none is queued a kept quote, or
// nil.
func (q *msgQueue) pop() *nats.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.buf) {
		for subj, m := range q.latest {
			delete(q.latest, subj)
			q.latestBytes -= msgSize(m)
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
