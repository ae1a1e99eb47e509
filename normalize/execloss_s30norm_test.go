package normalize

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Contract 3: an execution report the parser refuses is announced. A
// frame of a report channel (Bybit "execution"/"order", OKX "orders",
// Kraken v2 "executions", Coinbase Advanced Trade "user") refused before
// its reports were read — a bad envelope member (Bybit "creationTime",
// Kraken/Coinbase "sequence"/"sequence_num", an event's "type"), or no
// "data" — was dropped with a *ParseError and no marker: the host never
// heard of the lost reports. Every venue's execution samples, with each
// scalar replaced by a wrong value, must give either the reports, or a
// gap marker of execution reports (GapType EventExecReport) for them;
// only a frame whose channel or event type is gone ("e", "topic",
// "channel": then nothing says it held reports) is exempt. Failed before
// the fix for Bybit, Kraken and Coinbase.
func TestS30ExecFramesRefusedAreAnnounced(t *testing.T) {
	exempt := map[string]bool{"e": true, "topic": true, "channel": true}
	eachVenueSample(t, func(t *testing.T, venue schema.Venue, doc []byte) {
		events := schema.NewPools(nil).Events
		var reports, lost uint64
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			if ev.Type == schema.EventExecReport {
				reports++
			}
			if ev.Type == schema.EventGap && ev.Control.GapType == schema.EventExecReport {
				lost += max(ev.Control.GapCount, 1)
			}
			events.Put(ev)
			return nil
		})
		_ = newVenueParser(venue, events, sink).HandleBytes(context.Background(), doc, 1)
		n := reports
		if n == 0 {
			return
		}
		for _, sp := range scalarSpans(t, doc, 1000) {
			for _, m := range []string{`"ZZZ"`, `null`, `"NaN"`, `-1`, `""`, `"-1"`, `{}`} {
				frame := append(append(append([]byte{}, doc[:sp[0]]...), m...), doc[sp[1]:]...)
				reports, lost = 0, 0
				err := newVenueParser(venue, events, sink).HandleBytes(context.Background(), frame, 1)
				var pe *ParseError
				if err != nil && errors.As(err, &pe) && exempt[pe.Field] {
					continue
				}
				if err == nil && reports == 0 && lost == 0 {
					continue // no longer a report channel's frame ("channel":"ZZZ"): unknown
				}
				require.GreaterOrEqual(t, reports+lost, n, "%s: %v", frame, err)
			}
		}
		require.Zero(t, events.Stats().InUse)
	})
}
