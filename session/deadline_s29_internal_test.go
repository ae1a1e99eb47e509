package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// handClock's timers fire only when the test says (fire).
type handClock struct {
	wsclient.Clock
	mu     sync.Mutex
	timers []*handTimer
}

type handTimer struct {
	c       chan time.Time
	clk     *handClock
	stopped bool
}

func (c *handClock) NewTimer(time.Duration) wsclient.Timer {
	t := &handTimer{c: make(chan time.Time, 1), clk: c}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return t
}

// fire fires timer i, stopped or not (a timer that fired as it was
// stopped).
func (c *handClock) fire(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers[i].c <- time.Now()
}

func (c *handClock) armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func (t *handTimer) C() <-chan time.Time { return t.c }
func (t *handTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}
func (t *handTimer) Reset(time.Duration) bool { return false }

// TestS29Deadline: the one answer deadline of the session (the private
// handshake's and Binance's user-data subscription's): an arming expires
// once; one armed again, or disarmed, never expires, even when its timer
// fires as it is replaced; Close's dying ends every wait.
func TestS29Deadline(t *testing.T) {
	clk := &handClock{Clock: wsclient.SystemClock()}
	s := &Session{}
	s.cfg.Client.Clock = clk
	s.dying, s.die = context.WithCancel(context.Background())
	d := deadline{s: s}
	got := make(chan uint64, 4)
	expire := func(g uint64) { got <- g }

	g0 := d.arm(answerTimeout, expire)
	g1 := d.arm(answerTimeout, expire) // in place of g0
	assert.False(t, d.live(g0))
	clk.fire(0) // g0's timer fires as it is replaced
	clk.fire(1)
	select {
	case g := <-got:
		assert.Equal(t, g1, g)
		assert.True(t, d.live(g))
	case <-time.After(30 * time.Second):
		t.Fatal("the live arming did not expire")
	}

	d.arm(answerTimeout, expire)
	d.disarm()
	clk.fire(2)
	d.arm(answerTimeout, expire) // a third: waits
	require.Equal(t, 4, clk.armed())
	s.die()
	s.bg.Wait() // every wait ended
	select {
	case g := <-got:
		t.Fatalf("expired %d after disarm or dying", g)
	default:
	}
}
