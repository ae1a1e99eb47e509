package session

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
