package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Contract 3 whatever the member order: a report channel's frame whose bad
// member comes before "topic"/"channel"/"arg" was refused without a marker
// (the envelope's decode stopped at the bad member, so the channel it
// judged by was never read). Each frame here has its bad member first.
// Failed before the fix for every venue.
func TestS30rvnormRefusedReportFrameAnyMemberOrder(t *testing.T) {
	for _, tt := range []struct {
		name  string
		venue schema.Venue
		frame string
	}{
		{"bybit creationTime first", schema.VenueBybit, `{"id":"x","creationTime":"ZZZ","topic":"execution","data":[]}`},
		{"bybit cs first", schema.VenueBybit, `{"cs":"ZZZ","topic":"order.spot","data":[]}`},
		{"kraken sequence first", schema.VenueKraken, `{"sequence":"ZZZ","channel":"executions","type":"update","data":[]}`},
		{"kraken data first", schema.VenueKraken, `{"data":"ZZZ","channel":"executions","type":"update"}`},
		{"okx data first", schema.VenueOKX, `{"data":"ZZZ","arg":{"channel":"orders","instType":"ANY","uid":"1"}}`},
		{"okx instId before channel", schema.VenueOKX, `{"arg":{"instId":5,"channel":"orders","instType":"ANY"},"data":[]}`},
		{"coinbase sequence_num first", schema.VenueCoinbase, `{"sequence_num":"ZZZ","channel":"user","client_id":"","timestamp":"2023-02-09T20:33:57.609931463Z","events":[]}`},
		{"coinbase events first", schema.VenueCoinbase, `{"events":"ZZZ","channel":"user","timestamp":"2023-02-09T20:33:57.609931463Z","sequence_num":1}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			var lost int
			sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
				if ev.Type == schema.EventGap && ev.Control.GapType == schema.EventExecReport {
					lost++
				}
				events.Put(ev)
				return nil
			})
			err := newVenueParser(tt.venue, events, sink).HandleBytes(context.Background(), []byte(tt.frame), 1)
			require.Error(t, err)
			require.Equal(t, 1, lost, "the refused report frame is announced: %v", err)
			require.Zero(t, events.Stats().InUse)
		})
	}
}

// rescanName never panics and finds only a string member at its path (a
// jsontext token read after the next read panicked on a truncated frame).
func FuzzS30rvnormRescanName(f *testing.F) {
	for _, s := range []string{
		`{"data":"ZZZ","arg":{"channel":"orders"}}`, `{"sequence":1,"channel":"executions"}`,
		`{"type":"l2update","product_id":"BTC-USD"`, `{"arg":{"instId":5,"channel":"orders"`, `[1,2]`, `{"topic":5}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var a, b text
		rescanName(frame, &a, "channel")
		rescanName(frame, &b, "arg", "channel")
		if a.ok {
			require.NotNil(t, topMember(frame, "channel"), "a name found where the frame has none")
		}
		if b.ok {
			require.NotNil(t, topMember(topMember(frame, "arg"), "channel"))
		}
	})
}
