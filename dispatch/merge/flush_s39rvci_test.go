package merge

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Flush at shutdown is a host's last word to a Merger: a closed window it
// leaves waiting for the Merged pool is published by nothing after it.
// Flush says so (ErrWindowWaiting) instead of nil, and a Flush once an
// object is free publishes it and returns nil. Before, Flush returned nil
// with the window still waiting (counted in Stats.PoolDropped among every
// view that waited, a host could not tell), and the window was lost.
func TestS39rvciFlushTellsOfAWindowLeftWaiting(t *testing.T) {
	ctx := context.Background()
	e := newExhaustible(t, Options{Mode: Windowed, Window: time.Second})
	e.exhaust(t)
	require.NoError(t, e.m.Add(ctx, trade(schema.VenueBinance, 0, "100")))
	require.NoError(t, e.m.Add(ctx, trade(schema.VenueOKX, 100*time.Millisecond, "100")))
	e.clk.set(t0.Add(10 * time.Second))
	require.ErrorIs(t, e.m.Flush(ctx), ErrWindowWaiting, "the window closed by Flush found no pool object")
	e.none(t)
	require.ErrorIs(t, e.m.Flush(ctx), ErrWindowWaiting, "still waiting: nothing open, nothing published")
	e.none(t)
	e.refill()
	require.NoError(t, e.m.Flush(ctx), "published")
	w := e.next(t)
	require.Equal(t, uint64(1), w.MergeID)
	require.Len(t, w.Fragments, 2)
	require.NoError(t, e.m.Flush(ctx), "nothing waits, nothing open")
	e.none(t)
}

// ignoreWaiting is err without ErrWindowWaiting when the pool was held
// (exhausted on purpose): Flush rightly says a window waits.
func ignoreWaiting(err error, held bool) error {
	if held && errors.Is(err, ErrWindowWaiting) {
		return nil
	}
	return err
}
