package schema_test

import (
	"context"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Bounded memory (README, DESIGN.md) against "Reset ... keeps capacity"
// (contract 2): a pooled event keeps its buffers so that the next message
// costs no allocation, but a pool never shrinks, so an event that once
// carried a whole book — Coinbase's level2 snapshot at every
// (re)subscription, a Binance REST snapshot of 5,000 levels a side, a
// venue's garbage up to wsclient's 16 MiB ReadLimit, ~1.6 million levels —
// would keep that memory in the pool for the process's life, every event
// of the pool that ever held one. wsclient bounds its frames the same way
// (a frame goes back with at most 256 KiB). Reset keeps a buffer of up to
// 256 KiB (8,192 levels a side, 256 KiB of Raw: every venue's usual
// message, Binance's largest snapshot) and drops a larger one.
func TestS25ctResetDropsHugeBuffers(t *testing.T) {
	ctx := context.Background()
	events := schema.NewPools(nil).Events
	ev, err := events.Get(ctx)
	require.NoError(t, err)
	ev.Book.Bids = make([]schema.Level, 1_000_000)
	ev.Book.Asks = make([]schema.Level, 600_000)
	ev.Raw = make([]byte, 8<<20)
	events.Put(ev)
	again, err := events.Get(ctx)
	require.NoError(t, err)
	require.Same(t, ev, again, "the pool hands the same event out again (last in, first out)")
	level := int(unsafe.Sizeof(schema.Level{}))
	assert.LessOrEqual(t, cap(again.Book.Bids)*level, 256<<10, "bids kept")
	assert.LessOrEqual(t, cap(again.Book.Asks)*level, 256<<10, "asks kept")
	assert.LessOrEqual(t, cap(again.Raw), 256<<10, "raw kept")

	// Buffers of every venue's usual size are kept: no allocation for the
	// next message.
	again.Book.Bids = make([]schema.Level, 5000)
	again.Book.Asks = make([]schema.Level, 8192)
	again.Raw = make([]byte, 256<<10)
	events.Put(again)
	ev, err = events.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5000, cap(ev.Book.Bids))
	assert.Equal(t, 8192, cap(ev.Book.Asks))
	assert.Equal(t, 256<<10, cap(ev.Raw))
	events.Put(ev)

	merged := schema.NewPools(nil).Merged
	m, err := merged.Get(ctx)
	require.NoError(t, err)
	m.Fragments = make([]schema.Fragment, 100_000)
	merged.Put(m)
	m, err = merged.Get(ctx)
	require.NoError(t, err)
	assert.LessOrEqual(t, cap(m.Fragments)*int(unsafe.Sizeof(schema.Fragment{})), 256<<10, "fragments kept")
	merged.Put(m)
}
