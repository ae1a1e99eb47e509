//go:build !race

package normalize_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Audit of issue 13 ("testing.AllocsPerRun = 0 for every message type of
// every venue after warm-up"): TestEverySampleZeroAllocs skips the Bybit
// "order" sample ("normalises into no event": it is an option order, whose
// symbol needs the instrument loaded). Here it is measured with the
// instrument loaded, as the conformance test loads it. Not under -race,
// whose detector allocates.
func TestAuditBybitOrderZeroAllocs(t *testing.T) {
	msg, err := os.ReadFile(filepath.Join("..", "testdata", "venues", "bybit_v5_order.json"))
	require.NoError(t, err)
	events := schema.NewPools(nil).Events
	n := 0
	p := normalize.NewBybit(events, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		if ev.Type == schema.EventExecReport {
			n++
		}
		events.Put(ev)
		return nil
	}), nil)
	require.NoError(t, p.Symbols().Load([]normalize.Instrument{{Symbol: "ETH-30DEC22-1400-C", Base: "ETH", Quote: "USD", Contract: "30DEC22-1400-C"}}))
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, msg, 1))
	require.Equal(t, 1, n, "the sample is one execution report")
	allocs := testing.AllocsPerRun(100, func() {
		if err := p.HandleBytes(ctx, msg, 1); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 102, n, "every report published (AllocsPerRun runs once more to warm up), none taken for a repeat")
}
