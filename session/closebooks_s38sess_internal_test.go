package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s38PutSink takes the events the Books publish back to the pool.
type s38PutSink struct{ pools *schema.Pools }

func (k s38PutSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	k.pools.Events.Put(ev)
	return nil
}

// Close closes the shards' Books at once: each waits for the event pool
// up to book.StateTimeout to publish what it owes (a connection state the
// exhausted pool did not give), and one after the other they made Close
// take a StateTimeout per shard. Seen as both waiting on the pool at once
// (Stats.Waits up by two while none gave up): before s38sess the first
// gave up (Exhausted) before the second waited.
func TestS38sessCloseClosesTheShardsBooksAtOnce(t *testing.T) {
	pools := schema.NewPools(nil)
	s := &Session{pools: pools}
	for range 2 {
		sh := &shard{books: book.NewBooks(s38PutSink{pools}, pools.Events, nil)}
		s.shards = append(s.shards, sh)
	}
	var held []*schema.CanonicalEvent
	for {
		ev, err := pools.Events.TryGet()
		if err != nil {
			break
		}
		held = append(held, ev)
	}
	giveBack := func() {
		for _, ev := range held {
			pools.Events.Put(ev)
		}
		held = nil
	}
	defer func() { giveBack() }()
	for _, sh := range s.shards { // each owes its loss: the pool gave none in StateTimeout
		sh.books.OnEvent(schema.VenueBinance, nil)(wsclient.Event{State: schema.ConnDisconnected, ConnID: 1, IngestTS: 1})
	}
	before := pools.Events.Stats()
	done := make(chan struct{})
	go func() { defer close(done); s.closeBooks(context.Background()) }()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	guard := time.NewTimer(time.Minute)
	defer guard.Stop()
	both := false
	for !both {
		select {
		case <-done:
			st := pools.Events.Stats()
			both = st.Waits-before.Waits >= 2 && st.Exhausted == before.Exhausted
			require.True(t, both, "the shards' Books waited for the pool one after the other: %+v then %+v", before, st)
		case <-guard.C:
			t.Fatal("closeBooks never returned")
		case <-tick.C:
			st := pools.Events.Stats()
			both = st.Waits-before.Waits >= 2 && st.Exhausted == before.Exhausted
		}
	}
	giveBack() // their owed states go out now
	select {
	case <-done:
	case <-guard.C:
		t.Fatal("closeBooks never returned")
	}
	assert.Equal(t, int64(0), pools.Events.Stats().InUse, "every event back")
}
