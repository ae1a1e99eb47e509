package session

import "github.com/meltica/meltica/schema"

// SetRaceHooks sets the hooks a test holds an order or a rotation with
// (hooks.go); nil leaves a point free.
func (s *Session) SetRaceHooks(picked func(req *schema.OrderRequest, conn uint64),
	registered func(req *schema.OrderRequest, conn uint64, ok bool), drained func(conn uint64)) {
	s.hooks.Store(&testHooks{picked: picked, registered: registered, drained: drained})
}
