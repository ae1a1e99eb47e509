package benchmarks

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/benchmarks/baseline"
	"github.com/meltica/meltica/benchmarks/corpus"
	"github.com/meltica/meltica/benchmarks/internal/collect"
	"github.com/meltica/meltica/schema"
)

// meltica runs one frame through Meltica's normalizer and returns clones of
// the events it emitted.
func melticaEvents(t *testing.T, frame []byte) []*schema.CanonicalEvent {
	t.Helper()
	var got []*schema.CanonicalEvent
	p := collect.Binance(&got)
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

// TestStreamContinues checks that the corpus stream the pipeline
// benchmarks replay continues every sequence: pass after pass Meltica emits
// the same events as in the first pass — no gap marker, no repeat dropped —
// and the same number as the baseline, with the sequence moving on.
func TestStreamContinues(t *testing.T) {
	var got []*schema.CanonicalEvent
	p := collect.Binance(&got)
	s := corpus.NewStream()
	const passes = 4
	var perPass []int
	lastSeq := make([]uint64, len(corpus.Messages)) // per message of the corpus
	for pass := range passes {
		before := len(got)
		for j, m := range corpus.Messages {
			frame := s.Next()
			n := len(got)
			require.NoError(t, p.HandleBytes(context.Background(), frame, 42))
			base, err := baseline.Decode(frame, 42)
			require.NoError(t, err)
			require.Len(t, got[n:], len(base), "Meltica and the baseline emit as many events for %s", frame)
			for _, ev := range got[n:] {
				assert.NotEqual(t, schema.EventGap, ev.Type, "gap marker")
				assert.Nil(t, ev.Control, "control section %+v", ev.Control)
				if pass > 0 && m.Name != "executionReport" {
					assert.Greater(t, ev.SeqProvider, lastSeq[j], "%s sequence moves on", m.Name)
				}
				lastSeq[j] = ev.SeqProvider
			}
		}
		perPass = append(perPass, len(got)-before)
	}
	for _, n := range perPass {
		assert.Equal(t, len(corpus.Messages), n, "one event per frame in every pass: %v", perPass)
	}
}
