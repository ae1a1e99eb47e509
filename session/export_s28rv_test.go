package session

// PrivateChannelsReady reports whether the private channels' connection
// (not Bybit's trade connection) is logged in and subscribed, its answer
// deadline stopped: a test that fires the 10 s timers of the trade
// connection's waits on it, so as to fire no other.
func (s *Session) PrivateChannelsReady() bool { return s.private != nil && s.private.isReady() }
