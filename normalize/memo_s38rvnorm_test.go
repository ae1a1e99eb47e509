package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS38rvnormHeldDepthZeroAllocs: s38norm's symMemo holds a Kraken v2
// book depth (learnt from a snapshot with no ack, or named by an ack)
// until the message is accepted. Holding and committing it must cost no
// allocation once the symbol is known: the memo is the parser's own
// (krState.depthMemo, a pointer in filler.memo), and committing a known
// symbol rewrites its map entry. A 10-level snapshot with no ack learns
// its depth on every message; an ack names it on every message.
func TestS38rvnormHeldDepthZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	for _, tc := range []struct {
		name, msg string
	}{
		{"snapshot learns its depth", krV2Snapshot(10)},
		{"ack names the depth", krV2Ack(25)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			sink := &putSink{events: events}
			p := NewKraken(events, sink, nil)
			ctx := context.Background()
			msg := []byte(tc.msg)
			require.NoError(t, p.HandleBytes(ctx, msg, 1))
			require.NotZero(t, sink.n, "no event published")
			require.NotZero(t, p.state.(*krState).depths["BTC-USD"].n, "the depth is learnt")
			allocs := testing.AllocsPerRun(200, func() {
				if err := p.HandleBytes(ctx, msg, 1); err != nil {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs)
			require.Zero(t, p.Stats().Errors)
		})
	}
}

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
