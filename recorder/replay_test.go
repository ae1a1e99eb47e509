package recorder_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// collect is a normalize.Sink keeping a heap clone of every event.
type collect struct {
	events *pool.Pool[*schema.CanonicalEvent]
	mu     sync.Mutex
	got    []*schema.CanonicalEvent
}

func (c *collect) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	c.mu.Lock()
	c.got = append(c.got, ev.Clone())
	c.mu.Unlock()
	c.events.Put(ev)
	return nil
}

func (c *collect) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// Record a live session of the simulated venue through the tap, then
// replay the file through a fresh parser: the canonical events are the
// same, one for one, receive times included.
func TestRecordReplayRoundTrip(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 2000})
	defer venue.Close()
	path := filepath.Join(t.TempDir(), "live.jsonl.zst")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, URL: venue.CombinedURL(), Compress: true, Queue: 1 << 14})
	require.NoError(t, err)

	livePools := schema.NewPools(nil)
	live := &collect{events: livePools.Events}
	parser := normalize.NewBinance(livePools.Events, live, nil)
	client, err := wsclient.New(venue.StreamURL("btcusdt@trade", "btcusdt@bookTicker", "ethusdt@depth@100ms", "ethusdt@aggTrade"),
		rec.Tap(parser.HandleFrame), &wsclient.Options{Venue: schema.VenueBinance, Frames: livePools.Frames})
	require.NoError(t, err)
	runErr := make(chan error, 1)
	go func() { runErr <- client.Run(context.Background()) }()
	require.Eventually(t, func() bool { return live.len() >= 500 }, 30*time.Second, time.Millisecond)
	require.NoError(t, client.Close(context.Background()))
	require.NoError(t, <-runErr)
	require.NoError(t, rec.Close())
	st := rec.Stats()
	require.Zero(t, st.Dropped)
	require.Equal(t, client.Stats().Messages, st.Written)

	replayPools := schema.NewPools(nil)
	again := &collect{events: replayPools.Events}
	r, err := recorder.Open(rec.Files()...)
	require.NoError(t, err)
	defer r.Close()
	rst, err := recorder.Replay(context.Background(), r, normalize.NewBinance(replayPools.Events, again, nil).HandleFrame, nil)
	require.NoError(t, err)
	assert.Equal(t, st.Written, rst.Frames)
	assert.Zero(t, rst.HandlerErrors)

	require.Equal(t, len(live.got), len(again.got))
	kinds := map[schema.EventType]int{}
	for i := range live.got {
		require.Equal(t, live.got[i], again.got[i], "event %d", i)
		kinds[live.got[i].Type]++
	}
	assert.Positive(t, kinds[schema.EventTrade])
	assert.Positive(t, kinds[schema.EventBBO])
	assert.Positive(t, kinds[schema.EventBookUpdate])
	for _, p := range []*schema.Pools{livePools, replayPools} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, p.Shutdown(ctx))
		cancel()
	}
}

// fakeClock advances only when slept on, and remembers each wait.
type fakeClock struct {
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func TestReplayPacedOnTheClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueKraken})
	require.NoError(t, err)
	base := int64(1_618_678_132_000_000_000)
	for i, at := range []int64{0, 10e6, 30e6, 30e6, 90e6} {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: base + at, Data: []byte(`{"event":"heartbeat"}`)}))
	}
	require.NoError(t, rec.Close())

	r, err := recorder.Open(path)
	require.NoError(t, err)
	defer r.Close()
	clock := &fakeClock{now: time.Unix(1, 0)}
	var seen []int64
	var provider schema.Venue
	st, err := recorder.Replay(context.Background(), r, func(_ context.Context, f *schema.WsFrame) error {
		seen = append(seen, f.ReceivedAt-base)
		provider = f.Provider
		return nil
	}, &recorder.ReplayOptions{Paced: true, Speed: 2, Clock: clock})
	require.NoError(t, err)
	assert.Equal(t, uint64(5), st.Frames)
	assert.Equal(t, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond}, clock.waits, "recorded gaps halved")
	assert.Equal(t, []int64{0, 10e6, 30e6, 30e6, 90e6}, seen, "recorded receive times kept")
	assert.Equal(t, schema.VenueKraken, provider, "venue from the header")

	// Restamped, frames carry the clock's time; Progress counts them.
	r2, err := recorder.Open(path)
	require.NoError(t, err)
	defer r2.Close()
	clock = &fakeClock{now: time.Unix(100, 0)}
	var stamps []int64
	var progress []uint64
	_, err = recorder.Replay(context.Background(), r2, func(_ context.Context, f *schema.WsFrame) error {
		stamps = append(stamps, f.ReceivedAt)
		return nil
	}, &recorder.ReplayOptions{Restamp: true, Clock: clock, Venue: schema.VenueOKX, Progress: func(n uint64) { progress = append(progress, n) }})
	require.NoError(t, err)
	assert.Equal(t, []int64{100e9, 100e9, 100e9, 100e9, 100e9}, stamps, "unpaced: no waits, the clock stands still")
	assert.Equal(t, []uint64{1, 2, 3, 4, 5}, progress)
}

func TestReplayStopsWithContextAndCountsHandlerErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.jsonl")
	rec, err := recorder.New(path, nil)
	require.NoError(t, err)
	for i := range 10 {
		rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(i + 1), Data: []byte("x")})
	}
	require.NoError(t, rec.Close())

	r, err := recorder.Open(path)
	require.NoError(t, err)
	st, err := recorder.Replay(context.Background(), r, func(context.Context, *schema.WsFrame) error {
		return normalize.ErrMalformed
	}, &recorder.ReplayOptions{Venue: schema.VenueOKX})
	require.NoError(t, err)
	r.Close()
	assert.Equal(t, uint64(10), st.HandlerErrors)
	assert.ErrorIs(t, st.FirstErr, normalize.ErrMalformed)

	r, err = recorder.Open(path)
	require.NoError(t, err)
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	st, err = recorder.Replay(ctx, r, func(context.Context, *schema.WsFrame) error {
		cancel()
		return nil
	}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, uint64(1), st.Frames)
}
