package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS38rvnormHeldContractStatusZeroAllocs: a Binance contractInfo
// status held (bnState.contractMemo) and committed when the status
// changes costs no allocation: the documented words are interned, the
// contract's map entry rewritten.
func TestS38rvnormHeldContractStatusZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	p := NewBinance(events, sink, nil)
	ctx := context.Background()
	msgs := [2][]byte{
		[]byte(`{"e":"contractInfo","E":1669356423900,"s":"IOTAUSDT","cs":"TRADING"}`),
		[]byte(`{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","cs":"SETTLING"}`),
	}
	for _, m := range msgs {
		require.NoError(t, p.HandleBytes(ctx, m, 1))
	}
	i := 1 // the first run sends TRADING: SETTLING was the last delivered
	allocs := testing.AllocsPerRun(200, func() {
		i++
		if err := p.HandleBytes(ctx, msgs[i%2], 1); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
	require.Equal(t, 2+201, sink.n, "every change of status is delivered")
	require.Zero(t, p.Stats().Repeats)
	require.Zero(t, p.Stats().Errors)
}
