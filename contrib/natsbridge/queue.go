package natsbridge

import (
	"sync"

	"github.com/nats-io/nats.go"
)

// msgQueue is the consumer's queue of core messages, bounded in messages
// and bytes: a message past either bound is dropped and counted (a slow
// consumer), as nats.go's pending limits do for a subscription of its own.
// It is safe for concurrent use.
type msgQueue struct {
	maxMsgs, maxBytes int
	wake              chan struct{} // signalled on push

	mu      sync.Mutex
	buf     []*nats.Msg
	head    int
	bytes   int
	dropped uint64
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
		q.mu.Unlock()
		return
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

// pop returns the oldest message, or nil.
func (q *msgQueue) pop() *nats.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.buf) {
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
