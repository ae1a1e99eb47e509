package merge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A consolidated update costs no allocation in steady state: the merged
// event comes from its pool, its slices keep their capacity.
func TestContinuousZeroAllocs(t *testing.T) {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	defer func() { require.NoError(t, d.Close(context.Background())) }()
	m, err := New(&Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX}, Mode: Continuous, Sink: d, Merged: pools.Merged})
	require.NoError(t, err)
	ctx := context.Background()
	a, b := bbo(schema.VenueBinance, "100", "101"), bbo(schema.VenueOKX, "100.5", "101.5")
	qa, qb := schema.MustParseDecimal("1"), schema.MustParseDecimal("2")
	i := 0
	step := func() {
		a.BBO.AskQty = qa
		if i&1 == 1 {
			a.BBO.AskQty = qb
		}
		i++
		if err := m.Add(ctx, a); err != nil {
			panic(err)
		}
		if err := m.Add(ctx, b); err != nil {
			panic(err)
		}
	}
	for range 10 {
		step()
	}
	before := m.Stats().Published
	require.Zero(t, testing.AllocsPerRun(1000, step))
	require.GreaterOrEqual(t, m.Stats().Published-before, uint64(1000), "every step changes the best ask's quantity")
}
