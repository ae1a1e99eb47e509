package wire

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// pooledEvent is an event of a pool of its own, as the consumer decodes
// into (its out-of-line sections come from storage it keeps: decoding
// allocates nothing once warm), returned at the test's end.
func pooledEvent(t testing.TB) *schema.CanonicalEvent {
	t.Helper()
	p := pool.New("wire-test-events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	ev, err := p.TryGet()
	require.NoError(t, err)
	t.Cleanup(func() { p.Put(ev) })
	return ev
}

// outOfLine lists the out-of-line sections of ev by name, carried or not.
func outOfLine(ev *schema.CanonicalEvent) map[string]bool {
	return map[string]bool{
		"Ticker": ev.Ticker != nil, "Kline": ev.Kline != nil, "Mark": ev.Mark != nil,
		"Liquidation": ev.Liquidation != nil, "Exec": ev.Exec != nil, "Control": ev.Control != nil,
		"Balance": ev.Balance != nil, "Position": ev.Position != nil,
	}
}

// A section crosses the wire when the event carries it, whatever its
// fields hold (a gap marker's zero Control, an ack's zero Exec), and only
// then: the decoded event carries exactly the sections the published one
// did, into a fresh event, a pooled one, a Scratch, and one that carried
// every section before (a reused event). The encoder compared sections to
// zero: a carried zero section came back nil, and decoding into an event
// not reset left the sections the message did not carry.
func TestS42natsRoundTripKeepsNilness(t *testing.T) {
	uses := map[string]func(*schema.CanonicalEvent){
		"Ticker":      func(e *schema.CanonicalEvent) { e.UseTicker() },
		"Kline":       func(e *schema.CanonicalEvent) { e.UseKline() },
		"Mark":        func(e *schema.CanonicalEvent) { e.UseMark() },
		"Liquidation": func(e *schema.CanonicalEvent) { e.UseLiquidation() },
		"Exec":        func(e *schema.CanonicalEvent) { e.UseExec() },
		"Control":     func(e *schema.CanonicalEvent) { e.UseControl() },
		"Balance":     func(e *schema.CanonicalEvent) { e.UseBalance() },
		"Position":    func(e *schema.CanonicalEvent) { e.UsePosition() },
	}
	var d Decoder
	pooled := pooledEvent(t)
	var scratch Scratch
	for _, v := range []byte{Version, Version8, Version7, PrevVersion} {
		for name, use := range uses {
			for _, also := range []string{"", "Control"} { // a marker about an order carries Exec beside Control
				src := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap}
				use(src)
				if also != "" {
					uses[also](src)
				}
				data := AppendVersion(nil, src, 1, 0, v)

				fresh := &schema.CanonicalEvent{}
				_, err := d.Decode(data, fresh)
				require.NoError(t, err)
				require.Equal(t, outOfLine(src), outOfLine(fresh), "layout %d, %s+%s", v, name, also)
				require.Equal(t, src.Clone(), fresh.Clone(), "layout %d, %s+%s", v, name, also)

				fixture.Full(pooled, 1) // every section carried, by a reused event
				_, err = d.Decode(data, pooled)
				require.NoError(t, err)
				require.Equal(t, src.Clone(), pooled.Clone(), "layout %d, %s+%s into a reused pooled event", v, name, also)

				fixture.Full(&scratch.CanonicalEvent, 2)
				_, _, err = d.DecodeScratch(data, &scratch)
				require.NoError(t, err)
				require.Equal(t, src.Clone(), scratch.Clone(), "layout %d, %s+%s into a Scratch", v, name, also)
			}
		}
	}
	// A section dropped from a pooled event is zeroed: its next Use hands
	// out the kept storage clean, not the previous message's fields.
	fixture.Full(pooled, 3)
	plain := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade}
	_, err := d.Decode(Append(nil, plain, 1), pooled)
	require.NoError(t, err)
	for name, carried := range outOfLine(pooled) {
		require.False(t, carried, name)
	}
	require.Equal(t, schema.Control{}, *pooled.UseControl())
	require.Equal(t, schema.Execution{}, *pooled.UseExec())
	require.Equal(t, schema.Ticker{}, *pooled.UseTicker())
}

// Decoding into a Scratch allocates nothing once each section was decoded
// once: the consumer and the queue decode a message's stream and view
// into one for every live kline, ticker and gap marker.
func TestS42natsScratchZeroAllocs(t *testing.T) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 1)
	var d Decoder
	var s Scratch
	full, trade := Append(nil, src, 1), Append(nil, &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade}, 2)
	_, _, err := d.DecodeScratch(full, &s)
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(200, func() {
		for _, m := range [][]byte{trade, full} {
			if _, _, err := d.DecodeScratch(m, &s); err != nil {
				t.Fatal(err)
			}
		}
	}))
	require.Equal(t, src.Clone(), s.Clone())
}
