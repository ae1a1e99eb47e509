package session

import "sync"

// ReadyAfterPrep receives, once, whether the (main) private connection's
// orders may go after the worker's first step once a rotation's handshake
// (seen under way at a step after this call) has ended: for a failed
// rotation, its Connected event on the old connection.
func (s *Session) ReadyAfterPrep() <-chan bool {
	ready := make(chan bool, 1)
	prepared, sent := false, false
	s.hooks.Store(&testHooks{stepped: func(p *private) {
		if sent || p != s.private {
			return
		}
		if p.prep != nil {
			prepared = true // (the worker's own: one goroutine)
			return
		}
		if prepared {
			sent = true
			ready <- p.isReady()
		}
	}})
	return ready
}

// HoldUserDataUnanswered holds, once, Binance's user-data deadline
// (userDataUnanswered) before it puts its refusal on the board, until
// release is called (once or more; the test's Cleanup too): held receives
// the connection.
func (s *Session) HoldUserDataUnanswered() (held <-chan uint64, release func()) {
	h, r := make(chan uint64, 1), make(chan struct{})
	var once sync.Once
	s.hooks.Store(&testHooks{unanswered: func(conn uint64) {
		once.Do(func() {
			h <- conn
			<-r
		})
	}})
	return h, releaser(r)
}
