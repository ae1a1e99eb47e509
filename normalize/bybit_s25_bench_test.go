package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// bybitPushes are two pushes of one working order, the second amending the
// first's price: the order topic's path with the amendment check.
func bybitPushes() [2][]byte {
	return [2][]byte{[]byte(bybitOrderPush("o1", "New", "100", "1", "", "0", "1")), []byte(bybitOrderPush("o1", "New", "99.5", "1", "", "0", "1"))}
}

// TestS25BybitOrderZeroAllocs: following working orders for their
// amendments allocates nothing per report.
func TestS25BybitOrderZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	events := schema.NewPools(nil).Events
	p := NewBybit(events, &putSink{events: events}, nil)
	ctx := context.Background()
	pushes := bybitPushes()
	i := 0
	require.Zero(t, testing.AllocsPerRun(200, func() {
		_ = p.HandleBytes(ctx, pushes[i%2], 1)
		i++
	}))
}

// BenchmarkS25BybitOrderPush: Bybit order topic pushes of one working
// order, alternating prices (each an amendment of the one before).
func BenchmarkS25BybitOrderPush(b *testing.B) {
	events := schema.NewPools(nil).Events
	p := NewBybit(events, &putSink{events: events}, nil)
	ctx := context.Background()
	pushes := bybitPushes()
	b.ReportAllocs()
	b.SetBytes(int64(len(pushes[0])))
	i := 0
	for b.Loop() {
		_ = p.HandleBytes(ctx, pushes[i%2], 1)
		i++
	}
}
