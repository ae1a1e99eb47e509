package meltica_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// s30ctPeer is a loopback venue written from the venue's docs: its
// WebSocket paths answer each text message with what the test's handler
// returns, and record every message received; REST paths are the test's.
type s30ctPeer struct {
	t     *testing.T
	srv   *httptest.Server
	mux   *http.ServeMux
	mu    sync.Mutex
	conns map[string][]*s30ctConn // by path, in the order they opened
	recv  chan s30ctMsg           // every text message received
	log   []s30ctMsg              // every text message received, kept
	shut  map[string]bool         // paths whose upgrades are refused (503)
	tries map[string]int          // upgrades asked per path
}

// refuseDials makes path refuse (or take again) new connections.
func (p *s30ctPeer) refuseDials(path string, refuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut == nil {
		p.shut = map[string]bool{}
	}
	p.shut[path] = refuse
}

func (p *s30ctPeer) dials(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tries[path]
}

// find returns the messages received on path for which match holds.
func (p *s30ctPeer) find(path string, match func(string) bool) []s30ctMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []s30ctMsg
	for _, m := range p.log {
		if m.path == path && match(m.text) {
			out = append(out, m)
		}
	}
	return out
}

type s30ctMsg struct {
	path string
	conn *s30ctConn
	text string
}

type s30ctConn struct {
	path string
	n    int // 1-based order of the connection on its path
	c    *websocket.Conn
	ctx  context.Context
	mu   sync.Mutex
}

// send writes a text message to the session (errors: the session is gone).
func (c *s30ctConn) send(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.c.Write(c.ctx, websocket.MessageText, []byte(s))
}

// cut drops the connection without a close frame.
func (c *s30ctConn) cut() { _ = c.c.CloseNow() }

// s30ctHandler answers one received message; it may also write on c.
type s30ctHandler func(c *s30ctConn, text string) []string

func newS30ctPeer(t *testing.T) *s30ctPeer {
	p := &s30ctPeer{t: t, mux: http.NewServeMux(), conns: map[string][]*s30ctConn{}, recv: make(chan s30ctMsg, 4096)}
	p.srv = httptest.NewServer(p.mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *s30ctPeer) ws(path string) string {
	return "ws" + strings.TrimPrefix(p.srv.URL, "http") + path
}

func (p *s30ctPeer) rest(path string, body func(r *http.Request) string) {
	p.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body(r)))
	})
}

func (p *s30ctPeer) handle(path string, h s30ctHandler) {
	p.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		if p.tries == nil {
			p.tries = map[string]int{}
		}
		p.tries[path]++
		shut := p.shut[path]
		p.mu.Unlock()
		if shut {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		c.SetReadLimit(1 << 20)
		p.mu.Lock()
		sc := &s30ctConn{path: path, n: len(p.conns[path]) + 1, c: c, ctx: r.Context()}
		p.conns[path] = append(p.conns[path], sc)
		p.mu.Unlock()
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			text := string(msg)
			p.mu.Lock()
			p.log = append(p.log, s30ctMsg{path: path, conn: sc, text: text})
			p.mu.Unlock()
			select {
			case p.recv <- s30ctMsg{path: path, conn: sc, text: text}:
			default:
			}
			for _, a := range h(sc, text) {
				sc.send(a)
			}
		}
	})
}

// conn is the n-th connection opened on path (nil: none yet).
func (p *s30ctPeer) conn(path string, n int) *s30ctConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n < 1 || n > len(p.conns[path]) {
		return nil
	}
	return p.conns[path][n-1]
}

func (p *s30ctPeer) opened(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns[path])
}

// await returns the next message received on path for which match holds
// (messages of other paths, or not matching, are skipped).
func (p *s30ctPeer) await(path string, match func(string) bool) s30ctMsg {
	p.t.Helper()
	deadline := time.NewTimer(s27ctWait)
	defer deadline.Stop()
	for {
		select {
		case m := <-p.recv:
			if m.path == path && match(m.text) {
				return m
			}
		case <-deadline.C:
			p.t.Fatalf("no message on %s within %v", path, s27ctWait)
		}
	}
}

// s30ctExecs collects the execution reports OnExecReport hands over.
type s30ctExecs struct {
	mu    sync.Mutex
	all   []schema.Execution
	ch    chan struct{}
	pools *schema.Pools            // where the reports go back (Config.OnExecReport: the handler Puts them)
	held  []*schema.ExecReport     // reports received before pools was set
	hook  func(*schema.ExecReport) // when set, takes every report instead
}

// returnTo sets the pools the reports go back to, and returns those held.
func (e *s30ctExecs) returnTo(p *schema.Pools) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pools = p
	for _, r := range e.held {
		p.Execs.Put(r)
	}
	e.held = nil
}

func newS30ctExecs() *s30ctExecs { return &s30ctExecs{ch: make(chan struct{}, 1)} }

func (e *s30ctExecs) on(r *schema.ExecReport) {
	e.mu.Lock()
	if h := e.hook; h != nil {
		e.mu.Unlock()
		h(r)
		return
	}
	e.all = append(e.all, r.Execution)
	if e.pools != nil {
		e.pools.Execs.Put(r)
	} else {
		e.held = append(e.held, r)
	}
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// of returns the reports of client order id cid (or, with cid "",
// of venue order id vid).
func (e *s30ctExecs) of(cid, vid string) []schema.Execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []schema.Execution
	for _, x := range e.all {
		if (cid != "" && x.ClientOrderID.String() == cid) || (vid != "" && x.VenueOrderID.String() == vid) {
			out = append(out, x)
		}
	}
	return out
}

// wait returns the reports of the order once cond holds of them.
func (e *s30ctExecs) wait(t *testing.T, cid, vid string, cond func([]schema.Execution) bool, what string) []schema.Execution {
	t.Helper()
	var got []schema.Execution
	require.Eventually(t, func() bool {
		got = e.of(cid, vid)
		return cond(got)
	}, s27ctWait, time.Millisecond, "%s: reports %+v", what, func() []schema.Execution { return e.of(cid, vid) }())
	return got
}

// s30ctStates records the order connection's states (RoleOrders).
type s30ctStates struct {
	mu   sync.Mutex
	seen []schema.ConnState
}

func (s *s30ctStates) on(c session.Conn, ev wsclient.Event) {
	if c.Role != session.RoleOrders {
		return
	}
	s.mu.Lock()
	s.seen = append(s.seen, ev.State)
	s.mu.Unlock()
}

func (s *s30ctStates) count(k schema.ConnState) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.seen {
		if x == k {
			n++
		}
	}
	return n
}

func s30ctFast() wsclient.Options {
	return wsclient.Options{PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1,
		HeartbeatInterval: time.Hour, BackoffBase: time.Millisecond, BackoffCap: 5 * time.Millisecond}
}
