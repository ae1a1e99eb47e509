package venuesim

import (
	"github.com/coder/websocket"
	"strings"
)

// Fault is a failure the venue can inject into its open connections.
type Fault int

// Faults.
const (
	// FaultClose closes every market connection with a normal close frame.
	FaultClose Fault = iota + 1
	// FaultReset resets every market connection's TCP connection (RST, no
	// close frame).
	FaultReset
	// FaultStall stops sending market data on every open market connection
	// while keeping TCP open and answering pings: only an idle watchdog
	// notices. New connections are healthy.
	FaultStall
	// FaultNoPong freezes every open market connection: nothing is read or
	// written any more, so pings go unanswered (a half-open connection).
	FaultNoPong
	// FaultGarbage sends a binary junk frame and an invalid text frame on
	// every market connection, between good messages.
	FaultGarbage
	// FaultOversized sends one frame of Options.OversizedBytes.
	FaultOversized
	// FaultDepthGap skips update ids in the next depth diff of every
	// symbol: its U is not the previous u + 1. It reaches the connections
	// subscribed to a depth stream (Inject counts them); one subscribed
	// later meets the gap if it comes before that symbol's next diff.
	FaultDepthGap
	// FaultServerShutdown sends Binance's shutdown notice,
	// {"e":"serverShutdown","E":<ms>}, on every market connection ("A
	// serverShutdown event will be sent when the server is about to
	// shutdown, resulting in disconnection"), between its messages. The
	// connection stays open: a host that replaces it before the cut is
	// seen doing so; FaultClose makes the cut.
	FaultServerShutdown
)

var faultNames = [...]string{"", "close", "reset", "stall", "no-pong", "garbage", "oversized", "depth-gap", "server-shutdown"}

func (f Fault) String() string {
	if f > 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "unknown"
}

// Faults lists every fault, in order, for drills.
func Faults() []Fault {
	return []Fault{FaultClose, FaultReset, FaultStall, FaultNoPong, FaultGarbage, FaultOversized, FaultDepthGap, FaultServerShutdown}
}

// Inject applies a fault to every open market-data connection (the WS-API
// connections are left alone) and returns how many it reached.
func (v *Venue) Inject(f Fault) int {
	if f == FaultDepthGap {
		m := v.mkt
		m.mu.Lock()
		for _, s := range m.symbols {
			s.gap = true
		}
		m.mu.Unlock()
	}
	v.mu.Lock()
	var targets []*conn
	for c := range v.conns {
		if !c.api && (f != FaultDepthGap || c.followsDepth()) {
			targets = append(targets, c)
		}
	}
	v.mu.Unlock()
	for _, c := range targets {
		v.faults.Add(1)
		switch f {
		case FaultClose:
			c.closeWith(websocket.StatusNormalClosure, "")
		case FaultReset:
			if c.raw != nil {
				c.raw.reset()
			}
			c.kill()
		case FaultStall:
			c.stall.Store(true)
		case FaultNoPong:
			c.stall.Store(true)
			if c.raw != nil {
				c.raw.frozen.Store(true)
			}
		case FaultGarbage:
			c.inject(websocket.MessageBinary, []byte{0x00, 0xff, 0xfe, 0x13, 0x37, 0x00})
			c.inject(websocket.MessageText, []byte("\xff{not json at all"))
		case FaultOversized:
			big := make([]byte, v.opts.OversizedBytes)
			copy(big, `{"e":"trade","pad":"`)
			for i := 20; i < len(big)-2; i++ {
				big[i] = 'x'
			}
			copy(big[len(big)-2:], `"}`)
			c.inject(websocket.MessageText, big)
		case FaultServerShutdown:
			if c.okx {
				c.inject(websocket.MessageText, c.okxNotice())
				continue
			}
			c.inject(websocket.MessageText, marshal(&struct {
				Event string `json:"e"`
				Time  int64  `json:"E"`
			}{"serverShutdown", v.now().UnixMilli()}))
		}
	}
	return len(targets)
}

// followsDepth reports whether the connection is subscribed to a depth
// diff stream (<symbol>@depth or @depth@100ms, the ones the venue makes).
func (c *conn) followsDepth() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := range c.subs {
		if strings.HasSuffix(s, "@depth") || strings.HasSuffix(s, "@depth@100ms") || okxFollowsBooks(s) {
			return true
		}
	}
	return false
}

// inject writes a frame in order with the connection's other messages: it
// goes through the writer as a closure would, so it is queued, not raced.
func (c *conn) inject(typ websocket.MessageType, msg []byte) {
	if typ == websocket.MessageText {
		c.reply(msg)
		return
	}
	// Binary frames bypass the text queue; order relative to queued text
	// is not guaranteed, which is fine for junk.
	c.v.spawn(func() {
		if ws := c.upgradedWS(); ws != nil {
			_ = ws.Write(c.ctx, typ, msg)
		}
	})
}
