package session

import "github.com/meltica/meltica/schema"

// testHooks hold a goroutine at a point of a race a test proves (the
// interleaving is the test's, not the scheduler's). A host's session has
// none: each call is one atomic load of a nil pointer.
type testHooks struct {
	// picked: sendOnce took the connection req goes on, conn.
	picked func(req *schema.OrderRequest, conn uint64)
	// registered: sendOnce registered the wait for req's answer on conn
	// (ok), or found conn no longer the lane's (a rotation began: req
	// waits for its switch).
	registered func(req *schema.OrderRequest, conn uint64, ok bool)
	// drained: a rotation's Prepare for the new connection conn has the
	// old connection's answers (or drainBound passed); the switch follows.
	drained func(conn uint64)
	// frame: a market connection's reader hands f to the shard's parser
	// (it holds wsclient's delivery meanwhile).
	frame func(f *schema.WsFrame)
	// stepped: a private connection's worker took a step (it holds the
	// worker, whose next steps and expiries queue meanwhile).
	stepped func(p *private)
	// writing: a private connection's worker is about to write a
	// handshake message (login, subscription) for its connection p.conn.
	writing func(p *private)
	// unanswered: Binance's user-data subscription on conn went
	// unanswered (userDataUnanswered), its refusal not yet on the board.
	unanswered func(conn uint64)
}

func (s *Session) hookPicked(req *schema.OrderRequest, conn uint64) {
	if h := s.hooks.Load(); h != nil && h.picked != nil {
		h.picked(req, conn)
	}
}

func (s *Session) hookRegistered(req *schema.OrderRequest, conn uint64, ok bool) {
	if h := s.hooks.Load(); h != nil && h.registered != nil {
		h.registered(req, conn, ok)
	}
}

func (s *Session) hookDrained(conn uint64) {
	if h := s.hooks.Load(); h != nil && h.drained != nil {
		h.drained(conn)
	}
}

func (s *Session) hookFrame(f *schema.WsFrame) {
	if h := s.hooks.Load(); h != nil && h.frame != nil {
		h.frame(f)
	}
}

func (s *Session) hookStepped(p *private) {
	if h := s.hooks.Load(); h != nil && h.stepped != nil {
		h.stepped(p)
	}
}

func (s *Session) hookWriting(p *private) {
	if h := s.hooks.Load(); h != nil && h.writing != nil {
		h.writing(p)
	}
}

func (s *Session) hookUnanswered(conn uint64) {
	if h := s.hooks.Load(); h != nil && h.unanswered != nil {
		h.unanswered(conn)
	}
}
