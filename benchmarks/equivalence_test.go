package benchmarks

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/benchmarks/baseline"
	"github.com/meltica/meltica/benchmarks/corpus"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// meltica runs one frame through Meltica's normalizer and returns clones of
// the events it emitted.
func melticaEvents(t *testing.T, frame []byte) []*schema.CanonicalEvent {
	t.Helper()
	ps := schema.NewPools(nil)
	var got []*schema.CanonicalEvent
	sink := normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		got = append(got, ev.Clone())
		ps.Events.Put(ev)
		return nil
	})
	p := normalize.NewBinance(ps.Events, sink, nil)
	require.NoError(t, p.HandleBytes(context.Background(), frame, 42))
	return got
}

// TestSameCanonicalOutput checks that the baseline pipeline and Meltica turn
// every corpus message into the same canonical events, so the benchmarks
// compare the same work.
func TestSameCanonicalOutput(t *testing.T) {
	for _, m := range corpus.Messages {
		t.Run(m.Name, func(t *testing.T) {
			want := melticaEvents(t, m.Frame)
			got, err := baseline.Decode(m.Frame, 42)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i := range want {
				assert.Equal(t, want[i], got[i])
			}
		})
	}
}
