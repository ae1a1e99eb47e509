package session

// TradeReady reports whether Bybit's trade connection is logged in (its
// worker took the auth's answer).
func (s *Session) TradeReady() bool {
	return s.private != nil && s.private.trade != nil && s.private.trade.isReady()
}
