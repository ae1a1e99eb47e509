package wsclient

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// stamped is one frame the client sent, with the fake clock's time when
// the venue read it.
type stamped struct {
	at   time.Time
	kind string // "msg:<text>", "ping", "pong"
}

// frameLog is what a countingVenue read, in order.
type frameLog struct {
	mu     sync.Mutex
	frames []stamped
}

func (l *frameLog) add(at time.Time, kind string) {
	l.mu.Lock()
	l.frames = append(l.frames, stamped{at, kind})
	l.mu.Unlock()
}

func (l *frameLog) all() []stamped {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]stamped(nil), l.frames...)
}

// countingVenue reads every frame of the client and logs it with clk's
// time; it answers the client's pings, and pings the client once after
// each of the client's first pings text messages (as Binance pings every
// 20 s, whenever that falls). A test that has it ping more than once must
// keep its pings a gap of the clock apart: a ping within a gap of the
// last pong is not answered (TestPingFloodDoesNotHoldTheReader).
func countingVenue(clk *fakeClock, log *frameLog, pings int, sent *atomic.Uint64) func(pc *peerConn) {
	return func(pc *peerConn) {
		texts := 0
		for {
			_, op, payload, err := readClientFrame(pc.br)
			if err != nil {
				return
			}
			now := clk.Now()
			switch op {
			case opPing:
				log.add(now, "ping")
				_ = pc.write(wsFrame(true, 0, opPong, payload, 0))
			case opPong:
				log.add(now, "pong")
			case opClose:
				return
			default:
				texts++
				ping := texts <= pings
				if ping {
					sent.Add(1) // before the log: a test that saw the message waits for the ping
				}
				log.add(now, "msg:"+string(payload))
				if ping {
					_ = pc.write(wsFrame(true, 0, opPing, fmt.Appendf(nil, "p%d", texts), 0))
				}
			}
		}
	}
}

// requireSpaced checks that the frames began at least gap apart on the
// clock: no 1-second window holds more than 1/gap of them (half-open).
func requireSpaced(t *testing.T, frames []stamped, gap time.Duration) {
	t.Helper()
	for i := 1; i < len(frames); i++ {
		require.GreaterOrEqual(t, frames[i].at.Sub(frames[i-1].at), gap,
			"frames %d (%s) and %d (%s) closer than %v: %v", i-1, frames[i-1].kind, i, frames[i].kind, gap, frames)
	}
}

// paceSteps moves the clock on one pacing gap at a time, starting at t0
// when the first frame went: before each step it waits for the frame of
// the current slot to reach the venue, for the venue's pings sent so far
// to reach the client (settled), and for someone to wait for the next
// slot, so that every frame is read, and every ping received, in the slot
// it was sent in. It stops once done holds, and returns the number of
// steps taken.
func paceSteps(t *testing.T, h *harness, log *frameLog, t0 time.Time, gap time.Duration, settled func() bool, done func([]stamped) bool) int {
	t.Helper()
	for k := 0; ; k++ {
		require.Less(t, k, 200, "not done after 200 gaps; frames %v", log.all())
		require.Eventually(t, func() bool { return len(log.all()) >= k+1 || done(log.all()) }, wait, time.Millisecond,
			"no frame in slot %d; frames %v", k, log.all())
		if done(log.all()) {
			return k
		}
		require.Eventually(t, settled, wait, time.Millisecond, "the venue's pings not received; frames %v", log.all())
		next := t0.Add(time.Duration(k+1) * gap)
		require.Eventually(t, func() bool { return h.clock.armedAt(next) || done(log.all()) }, wait, time.Millisecond,
			"nobody waits for slot %d; frames %v", k+1, log.all())
		if done(log.all()) {
			return k
		}
		require.Equal(t, next.Add(-gap), h.clock.Now(), "only the test moves the clock")
		h.clock.advance(gap)
	}
}

// paced is a client at ControlRate 4 on a fake clock that moves only
// when the test says, against a countingVenue that pings it after its
// first pings text messages.
type paced struct {
	*harness
	p    *rawPeer
	log  *frameLog
	t0   time.Time     // when the client dialled
	sent atomic.Uint64 // pings the venue sent
}

const paceGap = time.Second / 4

// startPaced starts it with subs, and opts changed by set.
func startPaced(t *testing.T, pings int, subs []string, set func(o *Options)) *paced {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	clk := newFakeClock()
	clk.blockSlp = true // the test moves time, one pacing gap at a time
	ps := &paced{log: &frameLog{}}
	p := newRawPeer(t, countingVenue(clk, ps.log, pings, &ps.sent))
	opts := peerOptions()
	opts.ControlRate = 4
	opts.Clock = clk
	opts.Subscriptions = nil
	for _, m := range subs {
		opts.Subscriptions = append(opts.Subscriptions, []byte(m))
	}
	if set != nil {
		set(opts)
	}
	t0 := clk.Now()
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.clock = clk
	ps.harness, ps.p, ps.t0 = h, p, t0
	return ps
}

// steps is paceSteps on it.
func (ps *paced) steps(done func([]stamped) bool) int {
	settled := func() bool {
		cn := ps.live()
		return cn != nil && cn.pace.pings.Load() == ps.sent.Load()
	}
	return paceSteps(ps.t, ps.harness, ps.log, ps.t0, paceGap, settled, done)
}

var threeSubs = []string{`{"sub":1}`, `{"sub":2}`, `{"sub":3}`}

// Binance counts pings, pongs and JSON control messages against one limit
// of 5 incoming messages per second per connection ("WebSocket Limits",
// Binance spot "General WebSocket Streams information"; the WebSocket API
// at api.binance.com/sapi/wss: "PING frames, PONG frames, JSON-formatted
// messages (e.g., subscription or unsubscription requests)"). The client's
// subscriptions were paced at ControlRate, but the pong coder/websocket
// answers a venue's ping with went out at once, so that a ping arriving
// during a resubscription burst made 5 frames in a second of 4
// subscriptions' pace, and a ping of the client's own a sixth. Every
// frame the client sends on its own account now shares one budget per
// connection: each begins at least 1/ControlRate after the previous one.
func TestPongsShareTheSubscriptionBudget(t *testing.T) {
	ps := startPaced(t, 1, threeSubs, nil)
	gap := paceGap
	all := func(fs []stamped) bool { return len(fs) == 4 } // 3 subscriptions, 1 pong
	steps := ps.steps(all)
	frames := ps.log.all()
	requireSpaced(t, frames, gap)
	require.Equal(t, 3, steps, "4 frames take 3 gaps: %v", frames)
	require.Equal(t, "pong", frames[1].kind, "the pong goes first: %v", frames)
	ps.finish(nil, ps.p.close)
}

// The client's own pings and Options.Heartbeat (OKX's "ping", Bybit's
// {"op":"ping"}) are counted too: with a ping and a heartbeat due at every
// pacing gap of the clock, subscriptions and the venue's pings all at
// once, no two frames begin within a gap, and every sender gets its turn
// (TestPacerOrder).
func TestPingsAndHeartbeatsShareTheBudget(t *testing.T) {
	ps := startPaced(t, 1, threeSubs, func(o *Options) {
		o.PingInterval = paceGap
		o.PongTimeout = time.Hour // the watchdog stays out of it
		o.Heartbeat = []byte(`{"op":"ping"}`)
		o.HeartbeatInterval = paceGap
	})
	kinds := func(fs []stamped) map[string]int {
		m := map[string]int{}
		for _, f := range fs {
			m[f.kind]++
		}
		return m
	}
	enough := func(fs []stamped) bool {
		m := kinds(fs)
		return len(fs) >= 12 && m["ping"] >= 2 && m[`msg:{"op":"ping"}`] >= 2 && m["pong"] == 1 && m[`msg:{"sub":3}`] == 1
	}
	ps.steps(enough)
	requireSpaced(t, ps.log.all(), paceGap)
	ps.finish(nil, ps.p.close)
}

// Options.PaceWrites puts the host's messages in the same budget (a host
// that subscribes and unsubscribes with Write on a Binance stream): they
// wait for it, and a ctx that ends meanwhile sends nothing (ErrNotSent).
func TestPaceWrites(t *testing.T) {
	ps := startPaced(t, 0, threeSubs[:1], func(o *Options) { o.PaceWrites = true })
	h, log, clk, t0 := ps.harness, ps.log, ps.clock, ps.t0
	h.rec.waitFor(t, "connected", connected(1))
	require.Eventually(t, func() bool { return len(log.all()) == 1 }, wait, time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- h.c.Write(ctx, []byte(`{"unsub":"never"}`)) }()
	require.Eventually(t, func() bool { return clk.armedAt(t0.Add(time.Second / 4)) }, wait, time.Millisecond, "the write waits for the budget")
	cancel()
	err := recvWait(t, stopped, "the stopped write")
	require.ErrorIs(t, err, ErrNotSent)
	require.ErrorIs(t, err, context.Canceled)

	wrote := make(chan error, 2)
	for i := range 2 {
		go func() { wrote <- h.c.Write(context.Background(), fmt.Appendf(nil, `{"unsub":%d}`, i)) }()
	}
	all := func(fs []stamped) bool { return len(fs) == 3 }
	require.Equal(t, 2, ps.steps(all))
	require.NoError(t, recvWait(t, wrote, "write"))
	require.NoError(t, recvWait(t, wrote, "write"))
	requireSpaced(t, log.all(), time.Second/4)
	for _, f := range log.all() {
		require.NotContains(t, f.kind, "never")
	}
	h.finish(nil, ps.p.close)
}

// Frames go first come, first served, but for a pong, which goes first
// (the reader waits on it): a free-for-all let a frequent ping take slot
// after slot while the heartbeat starved. A frame whose ctx ends leaves
// its place. Each claim comes a gap after the one before.
func TestPacerOrder(t *testing.T) {
	clk := newFakeClock()
	clk.blockSlp = true
	p := newPacer(&Options{ControlRate: 4, Clock: clk})
	gap := time.Second / 4
	require.True(t, p.tryClaim(p.enter(false)), "the first frame goes at once")
	t0 := clk.Now()

	sub, hb := p.enter(false), p.enter(false)
	ctx, cancel := context.WithCancel(context.Background())
	gone := p.enter(false)
	ping := p.enter(false)
	pong := p.enter(true)
	require.False(t, p.tryClaim(pong), "within the gap")
	require.False(t, p.tryClaim(sub), "behind the pong")
	cancel()
	require.ErrorIs(t, p.wait(ctx, gone), context.Canceled)
	p.leave(gone)

	order := []*ticket{pong, sub, hb, ping}
	for i, tk := range order {
		claimed := make(chan error, 1)
		go func() { claimed <- p.wait(context.Background(), tk) }()
		at := t0.Add(time.Duration(i+1) * gap)
		require.Eventually(t, func() bool { return clk.armedAt(at) }, wait, time.Millisecond, "slot %d not awaited", i)
		clk.advanceTo(at)
		require.NoError(t, recvWait(t, claimed, "the head's turn"))
		for _, other := range order[i+1:] {
			require.False(t, p.tryClaim(other), "slot %d is another's", i)
		}
		require.True(t, p.tryClaim(tk), "slot %d", i)
	}
	require.Empty(t, p.queue)
}

// A peer that pings faster than the budget (a flood, or a proxy's
// keepalive on top of the venue's) held the reader: each pong waited for
// its slot on the reader, so that 50 pings stalled every message behind
// them for 12 s. A ping that comes within a pacing gap of the last pong
// is not answered (RFC 6455 §5.5.3: an endpoint may answer only some of
// the pings it received), and the reader goes on at once.
func TestPingFloodDoesNotHoldTheReader(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	clk := newFakeClock()
	clk.blockSlp = true // time never moves here
	pongs := make(chan int, 1)
	p := newRawPeer(t, func(pc *peerConn) {
		pc.readClient()
		for i := range 50 {
			_ = pc.write(wsFrame(true, 0, opPing, fmt.Appendf(nil, "%d", i), 0))
		}
		_ = pc.write(text(`{"after":"pings"}`))
		n := 0
		for {
			select {
			case <-pc.pongs:
				n++
			case <-pc.gone:
				pongs <- n
				return
			case <-pc.done:
				pongs <- n
				return
			}
		}
	})
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.ControlRate = 4
	opts.Clock = clk
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.clock = clk
	h.sink.waitFor(t, `{"after":"pings"}`)
	h.finish(nil, p.close)
	require.Equal(t, 1, recvWait(t, pongs, "the pong count"), "one pong for the burst: the clock never moved")
}
