package wire

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/schema"
)

func TestRoundTripEveryField(t *testing.T) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 3)
	require.Empty(t, fixture.ZeroFields(src), "the fixture must set every field, or the round trip proves nothing")

	var d Decoder
	got := &schema.CanonicalEvent{}
	seq, err := d.Decode(Append(nil, src, 42), got)
	require.NoError(t, err)
	assert.Equal(t, uint64(42), seq)
	assert.Equal(t, src.Clone(), got.Clone())
	assert.Equal(t, "65000.10000003", got.Trade.Price.String(), "digits and trailing zeros kept")
}

func TestRoundTripEdges(t *testing.T) {
	cases := []struct {
		name string
		fill func(ev *schema.CanonicalEvent)
	}{
		{"empty sections", func(ev *schema.CanonicalEvent) { ev.Venue, ev.Type = "okx", schema.EventConnState }},
		{"zero with scale", func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = "binance", "ETH-USDT", schema.EventBookUpdate
			ev.Book.Bids = []schema.Level{{Price: schema.MustParseDecimal("3000.10"), Qty: schema.MustParseDecimal("0.00000000")}}
		}},
		{"extremes", func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = "binance", "X-Y", schema.EventTrade
			ev.SeqProvider, ev.ExchangeTS, ev.IngestTS = ^uint64(0), -1, 1<<63-1
			ev.Trade.Price = schema.NewDecimal(-(1<<63 - 1), 18)
			ev.Trade.Qty = schema.NewDecimal(1<<63-1, 0)
			ev.Trade.ID = schema.MustID("0123456789012345678901234567890123456789012345x")
		}},
		{"account extremes", func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Type = "binance", schema.EventBalance
			*ev.UseBalance() = schema.Balance{Asset: schema.MustID("BNFCR"), Kind: schema.BalanceWallet, Wallet: schema.MustParseDecimal("-0.00000000"),
				Index: 1<<32 - 2, Count: 1<<32 - 1}
			*ev.UsePosition() = schema.Position{Side: schema.PositionBoth, Amount: schema.MustParseDecimal("-0.010"), Count: 1<<32 - 1}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &schema.CanonicalEvent{}
			tc.fill(src)
			var d Decoder
			got := &schema.CanonicalEvent{}
			_, err := d.Decode(Append(nil, src, 0), got)
			require.NoError(t, err)
			assert.Equal(t, src.Clone(), got.Clone())
			for i, lv := range src.Book.Bids {
				assert.True(t, lv.Qty.Identical(got.Book.Bids[i].Qty))
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 1)
	good := Append(nil, src, 1)
	var d Decoder
	ev := &schema.CanonicalEvent{}
	for n := range len(good) {
		_, err := d.Decode(good[:n], ev)
		require.Error(t, err, "truncated at %d", n)
		ev.Reset()
	}
	_, err := d.Decode(append(append([]byte(nil), good...), 0), ev)
	assert.True(t, errors.Is(err, ErrMalformed), "trailing byte: %v", err)
	bad := append([]byte{Version + 1}, good[1:]...)
	_, err = d.Decode(bad, ev)
	assert.ErrorIs(t, err, ErrVersion)
	// An event type this build does not know (a newer publisher's, a
	// foreign message) is refused, not handed to the host as a type no
	// switch of its handles.
	unknown := append([]byte{Version, byte(schema.NumEventTypes)}, good[2:]...)
	_, err = d.Decode(unknown, ev)
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestZeroAllocs(t *testing.T) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 1)
	var d Decoder
	dst := pooledEvent(t) // as the consumer decodes: sections from the storage the event keeps
	buf := Append(nil, src, 1)
	_, err := d.Decode(buf, dst) // grows dst's slices and interns the strings
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		buf = Append(buf[:0], src, 2)
		dst.Reset()
		if _, err := d.Decode(buf, dst); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "steady-state encode+decode allocations")
}

func FuzzDecode(f *testing.F) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 1)
	f.Add(Append(nil, src, 1))
	src.Reset()
	src.Venue, src.Type = "binance", schema.EventGap
	f.Add(Append(nil, src, 0))
	f.Add([]byte{Version, 1, 0xff, 0xff})
	for _, typ := range []schema.EventType{schema.EventExecReport, schema.EventBookUpdate, schema.EventBalance, schema.EventPosition} {
		fixture.Full(src, int(typ))
		src.Type = typ
		f.Add(Append(nil, src, uint64(typ)))
	}
	f.Add(append([]byte{Version, byte(schema.NumEventTypes)}, Append(nil, src, 0)[2:]...))
	f.Add([]byte{Version - 2, 1})
	f.Add([]byte{Version + 1, 1})
	// The previous layout, still read: whole messages of it as seeds too.
	fixture.Full(src, 1)
	f.Add(AppendVersion(nil, src, 1, 0, PrevVersion))
	f.Add(AppendVersion(nil, src, 1, 7, Version7))
	f.Add(AppendRun(nil, src, 1, 0xdeadbeef))
	// Layout 9's ticker tail (Window, WeightedAvgPrice) and 8 without it.
	f.Add(AppendVersion(nil, src, 1, 7, Version8))
	src.Reset()
	src.Venue, src.Symbol, src.Type = schema.VenueBinance, "BTC-USDT", schema.EventTicker
	src.UseTicker().Window, src.UseTicker().WeightedAvgPrice = "4h", schema.NewDecimal(-123, 18)
	f.Add(AppendRun(nil, src, 3, 1))
	// Sections carried with zero fields: a marker's, an ack's.
	src.Reset()
	src.Venue, src.Type = schema.VenueBinance, schema.EventGap
	src.UseControl()
	src.UseExec()
	f.Add(Append(nil, src, 4))
	var dirty Scratch
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		ev := &schema.CanonicalEvent{}
		_, err := d.Decode(data, ev)
		// Into a reused event (every section carried before) and a
		// Scratch: the same outcome, the same sections carried.
		fixture.Full(&dirty.CanonicalEvent, 1)
		_, _, errDirty := d.DecodeScratch(data, &dirty)
		if (err == nil) != (errDirty == nil) {
			t.Fatalf("reused event decodes otherwise: %v, %v", err, errDirty)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if !assert.ObjectsAreEqual(ev.Clone(), dirty.Clone()) {
			t.Fatalf("a reused event decodes to another event")
		}
		if int(ev.Type) >= schema.NumEventTypes {
			t.Fatalf("unknown event type %d decoded", ev.Type)
		}
		// What decodes re-encodes to the same event.
		again := &schema.CanonicalEvent{}
		if _, err := d.Decode(Append(nil, ev, 0), again); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if !assert.ObjectsAreEqual(ev.Clone(), again.Clone()) {
			t.Fatalf("round trip differs")
		}
	})
}

// TestDecodeRefusesWideCount: a Balance's Index or Count that does not fit
// in 32 bits is malformed input, not a truncated value.
func TestDecodeRefusesWideCount(t *testing.T) {
	src := &schema.CanonicalEvent{Venue: "binance", Type: schema.EventBalance}
	*src.UseBalance() = schema.Balance{Asset: schema.MustID("BTC"), Kind: schema.BalanceDelta, Count: 7}
	good := Append(nil, src, 0)
	require.Equal(t, byte(7), good[len(good)-1], "Count is the last uvarint")
	bad := append(append([]byte(nil), good[:len(good)-1]...), 0x80, 0x80, 0x80, 0x80, 0x10) // 1<<32
	var d Decoder
	_, err := d.Decode(bad, &schema.CanonicalEvent{})
	require.ErrorIs(t, err, ErrMalformed)
}
