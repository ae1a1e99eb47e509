package session

import "context"

// WaitOrdersReady waits as Place does for the private side: every private
// connection logged in and subscribed, orders going on it. A test whose
// market connection is held in a rotation (its fake sends nothing, on a
// manual clock) waits on it rather than on WaitConnected.
func (s *Session) WaitOrdersReady(ctx context.Context) error { return s.waitOrdersReady(ctx) }
