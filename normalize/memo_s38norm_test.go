package normalize

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s38normKinds returns the types, symbols and book depths of evs.
func s38normKinds(evs []*schema.CanonicalEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type.String()+" "+ev.Symbol+" "+strconv.Itoa(ev.Book.Depth)+" "+s42normRead(ev).Control.Reason)
	}
	return out
}

// TestS38normKrakenRefusedSnapshotLearnsNoDepth: contract 6 ("it is
// dropped and counted, and nothing else is affected"). A Kraken v2 book
// snapshot names its view's depth when no ack did (krState.snapshotDepth)
// — learned while the snapshot was read, before its "checksum" and
// "timestamp" were: a snapshot refused for either left its depth learned,
// and the next messages of the symbol (a thinner snapshot, an update)
// came out named with a view no delivered message showed. The depth is
// now held and learned once the snapshot is accepted (memo/commit).
func TestS38normKrakenRefusedSnapshotLearnsNoDepth(t *testing.T) {
	for _, tc := range []struct {
		name, refused string
	}{
		{"timestamp no instant", strings.Replace(krV2Snapshot(10), `"checksum":1}`, `"checksum":1,"timestamp":"not a time"}`, 1)},
		{"checksum out of range", strings.Replace(krV2Snapshot(10), `"checksum":1}`, `"checksum":1099511627776}`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := []string{krV2Snapshot(7), krV2Update}
			_, want := feedFrames(t, NewKraken, nil, after, schema.EventBookSnapshot, schema.EventBookUpdate)
			p, got := feedFrames(t, NewKraken, nil, append([]string{tc.refused}, after...), schema.EventBookSnapshot, schema.EventBookUpdate)
			require.NotZero(t, p.Stats().Errors, "the mutated snapshot is refused")
			assert.Equal(t, s38normKinds(want), s38normKinds(got), "messages after a refused snapshot are as if it had not come")
		})
	}
}

// TestS38normBinanceContractInfoHeldUntilAccepted: a contractInfo event
// remembered its contract's status while it was read (bnContractInfoMsg
// .fill), so that a refusal following its fill — none does today; any
// later check of the message, an envelope's time, would — left the status
// remembered, and the next event of that status, the first delivered,
// was taken for a repeat and dropped. The fill is run here as Parser.run
// runs it, then refused as run refuses (f.fail after the fill, no
// commit); the same event then fed whole must be delivered.
func TestS38normBinanceContractInfoHeldUntilAccepted(t *testing.T) {
	const msg = `{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","ps":"IOTAUSDT","ct":"PERPETUAL","dt":4133404800000,"ot":1569398400000,"cs":"TRADING"}`
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBinance(events, sink, nil)
	require.NoError(t, p.HandleBytes(context.Background(), []byte(`{"e":"contractInfo","E":1669356423900,"s":"ADAUSDT","cs":"TRADING"}`), 1))
	require.Len(t, sink.got, 1)

	ev := &schema.CanonicalEvent{}
	kd := &p.spec.kinds[bnContractInfo]
	f := &p.fill
	f.begin(p, kd, ev)
	s := p.slots[bnContractInfo]
	require.NoError(t, s.decode(p, []byte(msg), ev))
	s.msg().fill(f)
	require.NoError(t, f.err)
	f.fail("E", errTime) // refused after its fill: run neither delivers nor commits it

	require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 2))
	require.Len(t, sink.got, 2, "the first accepted event of the contract is delivered, not a repeat")
	assert.Equal(t, "IOTA-USDT", sink.got[1].Symbol)
	assert.Equal(t, "TRADING", sink.got[1].Control.Reason)
	assert.Zero(t, p.Stats().Repeats)
	require.Zero(t, events.Stats().InUse, "events not returned to the pool")
}
