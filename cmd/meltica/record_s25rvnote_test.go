package main

import (
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The subscription line of a connection goes ahead of its first frame
// even when its Connected event and that frame note it at once (two
// goroutines): the frame's note returns only once the subscription is
// recorded. The fast path (the connection noted last) was set before the
// recording, so the frame's note returned at once and the frame went
// first. (With the fix the order holds on every schedule; without it the
// frame usually wins the race this test opens, and the test fails.)
func TestS25rvSubscriptionAheadOfFirstFrame(t *testing.T) {
	for range 20 {
		entered, release := make(chan struct{}), make(chan struct{})
		var mu sync.Mutex
		var order []string
		add := func(s string) {
			mu.Lock()
			order = append(order, s)
			mu.Unlock()
		}
		s := &subNoter{record: func(uint64, int64) bool {
			close(entered)
			<-release // the recorder busy: the event's note is under way
			add("subscription")
			return true
		}}
		eventDone := make(chan bool)
		go func() { eventDone <- s.note(7, 1) }() // the Connected event
		<-entered
		started, frameDone := make(chan struct{}), make(chan struct{})
		go func() {
			close(started)
			s.note(7, 2) // the connection's first frame
			add("frame")
			close(frameDone)
		}()
		<-started
		for range 100 {
			runtime.Gosched() // the frame's note given its chance to return early
		}
		close(release)
		require.True(t, <-eventDone)
		<-frameDone
		mu.Lock()
		assert.Equal(t, []string{"subscription", "frame"}, order)
		mu.Unlock()
	}
}
