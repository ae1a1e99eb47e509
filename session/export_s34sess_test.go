package session

import "github.com/meltica/meltica/schema"

// SetFrameHook sets the hook a market connection's reader calls with each
// frame before the shard's parser (hooks.go); nil clears it.
func (s *Session) SetFrameHook(frame func(f *schema.WsFrame)) {
	s.hooks.Store(&testHooks{frame: frame})
}
