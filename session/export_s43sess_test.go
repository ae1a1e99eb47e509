package session

// HoldSubscribeStep holds the (main) private connection's worker once, after
// the step that sent its subscriptions, until release is called: held
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
	return h, func() { close(r) }
}

// PrivateQueued is how many steps (answers, connection events) and answer
// deadline expiries wait for the (main) private connection's worker.
func (s *Session) PrivateQueued() (steps, expired int) {
	return len(s.private.steps), len(s.private.expired)
}
