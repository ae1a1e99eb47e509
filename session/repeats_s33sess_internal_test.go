package session

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestS33sessWindowIgnoresWallSteps: a rotation's window lasts as long
// as its timer on Client.Clock, whatever Now says meanwhile. Before the
// fix the window's end was a wall-clock UnixNano read off Now: a step of
// the wall clock forward (an NTP correction, a laptop waking) ended it at
// once, and the new connection's copy of a report was delivered twice; a
// step back kept it open past its timer (expire armed itself again for
// what Now said was left), and its memory with it.
func TestS33sessWindowIgnoresWallSteps(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	require.False(t, r.check(1, repeatReport(0)))
	for i := 1; i <= 2*repeatsCap; i++ { // 0 out of the ring: in the window only
		require.False(t, r.check(1, repeatReport(i)))
	}
	clk.now.Add(int64(time.Hour)) // the wall clock steps forward
	assert.True(t, r.check(2, repeatReport(0)), "the window still open: its timer has not fired")

	clk.now.Add(int64(-2 * time.Hour)) // and back, past the window's begin
	require.Len(t, clk.fire(), 1, "the window's end on Client.Clock")
	assert.Empty(t, clk.armed(), "not armed again for what Now says is left")
	r.mu.Lock()
	assert.Zero(t, len(r.seen)-r.head, "the window's reports forgotten at its end")
	r.mu.Unlock()
	assert.False(t, r.check(2, repeatReport(1)), "the window over: nothing compared")
}

// hookClock is endClock calling hook from Now, once armed (on the
// test's goroutine only).
type hookClock struct {
	*endClock
	armed bool
	hook  func()
}

func (c *hookClock) Now() time.Time {
	if c.armed {
		c.armed = false
		c.hook()
	}
	return c.endClock.Now()
}

// TestS33sessReportDuringBeginSeesOneWindow: a report read on the old
// connection while a rotation begins is compared in the new rotation's
// window, not with the former window's end. Before the fix begin stored
// the rotation's connections, then read Now, then stored the window's
// end, outside mu: a report read in between paired the new connections
// with the former window's end, long past (its timer late on a busy
// machine), so the window was closed under begin, the report remembered
// nowhere, and its copy on the new connection delivered twice once the
// old connection's later reports pushed it out of the ring.
func TestS33sessReportDuringBeginSeesOneWindow(t *testing.T) {
	ec := newEndClock()
	var r *repeats
	read := false
	clk := &hookClock{endClock: ec}
	clk.hook = func() {
		if !r.mu.TryLock() {
			return // repeats' own call under mu: no report read meanwhile
		}
		r.mu.Unlock()
		read = true
		require.False(t, r.check(2, repeatReport(0)), "read on the old connection while begin runs")
	}
	r = &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	ec.now.Add(int64(2 * repeatsWindow)) // the window's end is past; its timer is late
	clk.armed = true
	r.begin(2, 3)
	if !read {
		require.False(t, r.check(2, repeatReport(0)), "read on the old connection after begin")
	}
	for i := 1; i <= 2*repeatsCap; i++ {
		require.False(t, r.check(2, repeatReport(i)))
	}
	assert.True(t, r.check(3, repeatReport(0)), "the new connection's copy is a repeat")
}

// gateClock's AfterFunc timers fire when the test says, their callbacks
// on a goroutine of their own that waits for gate.
type gateClock struct {
	*endClock
	gate chan struct{}
	done chan struct{}
}

// fire fires every pending timer: its callback starts, waiting for gate.
func (c *gateClock) fire() {
	c.mu.Lock()
	ts := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, t := range ts {
		c.mu.Lock()
		run := !t.stopped
		t.stopped = true
		c.mu.Unlock()
		if run {
			go func() {
				<-c.gate
				t.f()
				close(c.done)
			}()
		}
	}
}

// TestS33sessStopWaitsForFiredEnd: Session.Close (repeats.stop) returns
// only once a window's end already fired has returned: nothing of the
// session runs after Close. Before the fix stop only stopped the timer,
// which a timer already fired ignores, and returned while its callback
// still ran.
//
// The callback's return is what stop can see of it: the end's done
// channel, closed as the callback's last act. The test checks that, not
// a mark of the fake clock's after the callback returned (clk.done):
// stop may wake between the two, and once did (session 47, a full -race
// run: "stop returned before the fired end's callback did", about 1 run
// in 130 under CPU load). While the callback runs, held inside expire by
// r.mu, stop must not have returned nor done been closed.
func TestS33sessStopWaitsForFiredEnd(t *testing.T) {
	clk := &gateClock{endClock: newEndClock(), gate: make(chan struct{}), done: make(chan struct{})}
	r := &repeats{clk: clk}
	r.begin(1, 2)
	r.mu.Lock()
	ended := r.endDone // closed by the end's callback as it returns
	r.mu.Unlock()
	clk.fire() // the end fired; its callback not yet run
	stopped := make(chan struct{})
	go func() {
		r.stopNow()
		close(stopped)
	}()
	require.Eventually(t, func() bool { // stop blocked waiting for the callback
		select {
		case <-stopped:
			return true
		default:
			return goroutineIn(func(g string) bool {
				return (strings.Contains(g, "[chan receive") || strings.Contains(g, "[select")) && strings.Contains(g, "(*repeats).stop(")
			})
		}
	}, time.Minute, time.Millisecond)
	select {
	case <-stopped:
		t.Error("stop returned while the fired end's callback had not run")
	default:
	}

	r.mu.Lock() // the callback runs, and waits inside expire
	close(clk.gate)
	require.Eventually(t, func() bool {
		return goroutineIn(func(g string) bool { return strings.Contains(g, "(*repeats).expire(") })
	}, time.Minute, time.Millisecond)
	select {
	case <-stopped:
		t.Error("stop returned while the fired end's callback ran")
	default:
	}
	select {
	case <-ended:
		t.Error("the end's done closed while its callback ran")
	default:
	}
	r.mu.Unlock()
	<-stopped
	select {
	case <-ended:
	default:
		t.Error("stop returned before the fired end's callback did")
	}
	<-clk.done
}

// goroutineIn reports whether the stack of a goroutine (its status line
// and frames, as runtime.Stack writes them) satisfies in.
func goroutineIn(in func(stack string) bool) bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.HasPrefix(g, "goroutine ") && in(g) {
			return true
		}
	}
	return false
}
