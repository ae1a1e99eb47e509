package session

// LateOrdersConnected hands the private worker the step of a Connected
// event of conn, as the event goroutine does (private.onEvent) when it
// delivers an event queued behind a slow host's OnState: a test puts a
// late event where a race would.
func (s *Session) LateOrdersConnected(conn uint64) {
	select {
	case s.private.steps <- step{conn: conn, up: true}:
	case <-s.private.quit:
	}
}

// OrdersWorkerReady reports whether the private worker holds its
// connection logged in and subscribed (private.isReady), whatever the
// client's state.
func (s *Session) OrdersWorkerReady() bool { return s.private.isReady() }
