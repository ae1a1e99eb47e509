package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// manualClock is a wsclient.Clock whose time moves only on advance, which
// runs the AfterFunc functions then due on the caller's goroutine.
type manualClock struct {
	wsclient.Clock // Sleep, NewTimer: not used by the books
	mu             sync.Mutex
	now            time.Time
	due            map[*manualTimer]time.Time
}

type manualTimer struct {
	c *manualClock
	f func()
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	t := &manualTimer{c: c, f: f}
	t.Reset(d)
	return t
}

func (c *manualClock) armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.due)
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var run []*manualTimer
	for t, at := range c.due {
		if !at.After(c.now) {
			run = append(run, t)
			delete(c.due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range run {
		t.f()
	}
}

func (t *manualTimer) C() <-chan time.Time { return nil }

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.due[t]
	delete(t.c.due, t)
	return ok
}

func (t *manualTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.due[t]
	t.c.due[t] = t.c.now.Add(d)
	return ok
}

// Config.MaxSilence and Config.Clock reach the books the pipeline makes,
// and Close closes them: no timer left armed.
func TestS31PipelineBooksMaxSilence(t *testing.T) {
	clk := &manualClock{Clock: wsclient.SystemClock(), now: time.Unix(1_700_000_000, 0), due: map[*manualTimer]time.Time{}}
	p, err := New(Config{Venue: Venues["okx"], Books: true, Depth: 400, MaxSilence: 5 * time.Second, Clock: clk})
	require.NoError(t, err)
	fr := &schema.WsFrame{Provider: schema.VenueOKX, ConnID: 1, Seq: 1, ReceivedAt: clk.Now().UnixNano(),
		Data: []byte(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["101","1","0","1"]],"bids":[["100","1","0","1"]],"ts":"1700000000000","checksum":0,"prevSeqId":-1,"seqId":10}]}`)}
	require.NoError(t, p.Handle(context.Background(), fr))
	books := p.Books()
	require.Len(t, books, 1)
	require.True(t, books[0].Live())
	require.Equal(t, 1, clk.armed(), "the book armed no MaxSilence timer")

	clk.advance(5 * time.Second)
	require.False(t, books[0].Live(), "silent for MaxSilence by Config.Clock, still live")
	st := books[0].Stats()
	require.Equal(t, uint64(1), st.Silences)

	fr.Seq, fr.Data = 2, []byte(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["100","2","0","1"]],"ts":"1700000000000","checksum":0,"prevSeqId":10,"seqId":11}]}`)
	require.NoError(t, p.Handle(context.Background(), fr))
	require.True(t, books[0].Live())
	require.Equal(t, 1, clk.armed())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, p.Close(ctx))
	require.Zero(t, clk.armed(), "a book's MaxSilence timer still armed after Close")
}
