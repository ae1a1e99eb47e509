package session

import "sync"

// HoldSubscribeStep holds the (main) private connection's worker once, after
// the step that sent its subscriptions, until release is called (once or
// more; the test's Cleanup too, so that Close does not wait on it): held
// receives how many subscriptions are in flight. The answers, and the
// expiry of their deadline, queue meanwhile (PrivateQueued).
func (s *Session) HoldSubscribeStep() (held <-chan int, release func()) {
	h, r := make(chan int, 1), make(chan struct{})
	once := false
	s.hooks.Store(&testHooks{stepped: func(p *private) {
		if once || p != s.private || p.phase != phaseSubscribe || len(p.inFlight) == 0 {
			return
		}
		once = true // (the worker's own: one goroutine)
		h <- len(p.inFlight)
		<-r
	}})
	return h, releaser(r)
}

// PrivateQueued is how many steps (answers, connection events) and answer
// deadline expiries wait for the (main) private connection's worker.
func (s *Session) PrivateQueued() (steps, expired int) {
	return len(s.private.steps), len(s.private.expired)
}

// HoldHandshakeWrite holds the (main) private connection's worker once,
// at its first handshake write for a connection numbered from (wsclient
// ConnID), until release is called (as HoldSubscribeStep's): held
// receives that connection.
func (s *Session) HoldHandshakeWrite(from uint64) (held <-chan uint64, release func()) {
	h, r := make(chan uint64, 1), make(chan struct{})
	once := false
	s.hooks.Store(&testHooks{writing: func(p *private) {
		if once || p != s.private || p.conn < from {
			return
		}
		once = true // (the worker's own: one goroutine)
		h <- p.conn
		<-r
	}})
	return h, releaser(r)
}

// releaser closes r on its first call.
func releaser(r chan struct{}) func() {
	var once sync.Once
	return func() { once.Do(func() { close(r) }) }
}
