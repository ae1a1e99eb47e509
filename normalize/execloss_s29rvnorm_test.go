package normalize

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A refused execution report received after the host's clock stepped
// back (before the last marker's receive time) is announced at once, not
// held until the stepped clock reaches the marker's window (an hour later
// for a step of an hour: the host's orders unreconciled all that time).
// One within the second after the marker still waits; a step forward is
// past the window. Found by the outside contract team
// (TestS29ctRefusedReportMarkerWithTheClockStepped): messages at t0-59m58s
// … t0+500ms announced nothing.
func TestS29rvRefusedReportClockStepped(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC).UnixNano()
	for _, c := range []struct {
		name   string
		second int64
		atOnce bool
	}{
		{"back an hour", t0 - int64(time.Hour), true},
		{"back a second", t0 - int64(time.Second), true},
		{"back 1 ns", t0 - 1, true},
		{"forward an hour", t0 + int64(time.Hour), true},
		{"at the marker", t0, false},
		{"within the second", t0 + int64(500*time.Millisecond), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			p, sink, events, _ := s25gapParser(t, 64, 64)
			markers := func() (out []string) {
				for _, ev := range sink.evs {
					if ev.Type == schema.EventGap {
						out = append(out, fmt.Sprintf("%s %d", ev.Control.GapType, ev.Control.GapCount))
					}
				}
				sink.drain(events)
				return out
			}
			require.Error(t, p.HandleBytes(ctx, s25gapReport(1, "NaN"), t0))
			require.Equal(t, []string{"exec_report 1"}, markers(), "the first at once")
			require.Error(t, p.HandleBytes(ctx, s25gapReport(2, "NaN"), c.second))
			if c.atOnce {
				assert.Equal(t, []string{"exec_report 1"}, markers(), "outside the marker's second: at once")
				return
			}
			assert.Empty(t, markers(), "within the marker's second: counted")
			require.NoError(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", 1), c.second+int64(time.Millisecond)))
			assert.Empty(t, markers(), "still within")
			// The clock steps back before the marker: the next message
			// announces the count, not one an hour later.
			require.NoError(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", 2), t0-int64(time.Hour)))
			assert.Equal(t, []string{"exec_report 1"}, markers(), "the clock stepped back: announced by the next message")
			require.NoError(t, events.Shutdown(ctx))
		})
	}
}
