package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s43schemaAll returns an event carrying every out-of-line section, each
// with a field set, and the sections in table order.
func s43schemaAll() *schema.CanonicalEvent {
	e := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap}
	e.UseTicker().Window = "1h"
	e.UseTicker().WindowClose = 9
	e.UseKline().Interval = "1m"
	e.UseMark().NextFundingTime = 3
	e.UseLiquidation().Side = schema.SideSell
	e.UseExec().TradeID = schema.MustID("t1")
	e.UseControl().GapType = schema.EventTicker
	e.UseBalance().Reason = "deposit"
	e.UsePosition().Reason = "order"
	return e
}

// TestS43schemaReadersOfAbsentSectionsReadZero: the nil-safe readers of an
// event that carries no out-of-line section read zero (GapType
// EventUnknown), make no section and allocate nothing; of one that
// carries them, they read the sections' fields. Seen failing with
// GapType reading Control.GapType unchecked (a nil dereference) and with
// KlineInterval making the section (UseKline) to read it.
func TestS43schemaReadersOfAbsentSectionsReadZero(t *testing.T) {
	bare := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap}
	read := func(e *schema.CanonicalEvent) []any {
		return []any{e.GapType(), e.KlineInterval(), e.TickerWindow(), e.TickerWindowClose(), e.ControlOrZero(), e.ExecOrZero()}
	}
	assert.Equal(t, []any{schema.EventUnknown, "", "", int64(0), schema.Control{}, schema.Execution{}}, read(bare))
	assert.Zero(t, bare.Carried(), "a reader makes no section")
	assert.Nil(t, bare.Control)
	assert.Nil(t, bare.Kline)

	full := s43schemaAll()
	assert.Equal(t, []any{schema.EventTicker, "1m", "1h", int64(9), *full.Control, *full.Exec}, read(full))

	if raceEnabled {
		return // allocation counts: not under -race
	}
	var sink int
	allocs := testing.AllocsPerRun(100, func() {
		c, x := bare.ControlOrZero(), bare.ExecOrZero()
		sink += int(bare.GapType()) + len(bare.KlineInterval()) + len(bare.TickerWindow()) + int(bare.TickerWindowClose()) +
			int(c.Kind) + int(x.Side)
	})
	assert.Zero(t, allocs)
	assert.Zero(t, sink)
}

// TestS43schemaSectionsTable: every out-of-line section has its bit in
// Sections, in the fields' order; Carried names exactly the sections
// carried, Drop lets go of exactly those asked (never writing them: a
// host's memory stays as it was), CopyCarriedTo copies exactly the
// carried ones of its set, into the target's own memory. Seen failing
// with the Balance and Position rows of the table swapped (Drop of
// SectionBalance let go of Position) and with Carried leaving Position
// out.
func TestS43schemaSectionsTable(t *testing.T) {
	bits := []schema.Sections{schema.SectionTicker, schema.SectionKline, schema.SectionMark, schema.SectionLiquidation,
		schema.SectionExec, schema.SectionControl, schema.SectionBalance, schema.SectionPosition}
	pointer := func(e *schema.CanonicalEvent, b schema.Sections) any {
		return map[schema.Sections]any{schema.SectionTicker: e.Ticker, schema.SectionKline: e.Kline, schema.SectionMark: e.Mark,
			schema.SectionLiquidation: e.Liquidation, schema.SectionExec: e.Exec, schema.SectionControl: e.Control,
			schema.SectionBalance: e.Balance, schema.SectionPosition: e.Position}[b]
	}
	require.Equal(t, schema.AllSections, s43schemaAll().Carried())
	for i, b := range bits {
		require.Equal(t, schema.Sections(1)<<i, b)
		assert.True(t, schema.AllSections.Has(b))

		e := s43schemaAll()
		before := s43schemaAll().Clone()
		held := pointer(e, b)
		e.Drop(b)
		assert.Equal(t, schema.AllSections&^b, e.Carried(), "section %d", i)
		assert.Nil(t, pointer(e, b), "section %d let go", i)
		e.Drop(b) // a section not carried: nothing
		assert.Equal(t, schema.AllSections&^b, e.Carried())
		assert.Equal(t, pointer(before, b), held, "section %d: its memory not written", i)

		src := s43schemaAll()
		dst := &schema.CanonicalEvent{}
		src.CopyCarriedTo(dst, b|schema.SectionKline)
		assert.Equal(t, b|schema.SectionKline, dst.Carried(), "section %d", i)
		assert.Equal(t, pointer(src, b), pointer(dst, b), "section %d copied", i)
		assert.NotSame(t, pointer(src, b), pointer(dst, b), "section %d: dst's own", i)

		src.Drop(b)
		dst = &schema.CanonicalEvent{}
		src.CopyCarriedTo(dst, b)
		assert.Zero(t, dst.Carried(), "section %d: not carried, not copied", i)
	}
}

// TestS43schemaReusableEventKeepsSections: an event that keeps its
// sections (NewReusableEvent, KeepSections on a value) hands out the same
// storage at every Use after a Reset, zeroed, and allocates nothing once
// warm; a value copy of it and its Clone do not own that storage. Seen
// failing (one allocation a section a fill) before KeepSections, as an
// event made by hand makes a new section at every Use.
func TestS43schemaReusableEventKeepsSections(t *testing.T) {
	fill := func(e *schema.CanonicalEvent) {
		e.Reset()
		e.Type = schema.EventTicker
		e.UseTicker().Window = "1h"
		e.UseKline().Interval = "1m"
		e.UseExec().Reconciled = true
		e.UseControl().GapType = schema.EventBBO
		e.UseBalance().Index = 2
		e.UsePosition().Index = 3
		e.UseMark().NextFundingTime = 4
		e.UseLiquidation().Side = schema.SideBuy
	}
	var inStruct struct {
		n  int
		ev schema.CanonicalEvent
	}
	inStruct.ev.KeepSections()
	for name, e := range map[string]*schema.CanonicalEvent{"new": schema.NewReusableEvent(), "in a struct": &inStruct.ev} {
		t.Run(name, func(t *testing.T) {
			fill(e)
			ticker, control := e.Ticker, e.Control
			e.KeepSections() // a second time: nothing
			e.Reset()
			assert.Zero(t, e.Carried())
			assert.Same(t, ticker, e.UseTicker(), "the kept storage again")
			assert.Equal(t, schema.Ticker{}, *e.Ticker, "zeroed")
			assert.Same(t, control, e.UseControl())
			assert.Equal(t, schema.Control{}, *e.Control)

			fill(e)
			cp := *e
			cp.Ticker = nil
			assert.NotSame(t, ticker, cp.UseTicker(), "a value copy does not own the storage")
			assert.Equal(t, "1h", e.Ticker.Window, "nor writes the original's")
			c := e.Clone()
			c.Reset()
			assert.NotSame(t, ticker, c.UseTicker(), "a clone keeps none")
			assert.False(t, e.Pooled(), "no pool's")

			if raceEnabled {
				return
			}
			assert.Zero(t, testing.AllocsPerRun(100, func() { fill(e) }))
		})
	}
}

// TestS43schemaCopyIntoReusesMemory: CopyInto makes dst a copy of src
// equal to src's Clone, carrying src's sections only, in dst's own
// storage and in the memory of dst's Raw and levels: into an event that
// held a book as large before it allocates nothing (CloneInto: a new Raw
// and new levels, 2 allocations). Seen failing with CopyInto written as
// CloneInto (2 allocations a copy), and with the levels copied by slice
// assignment (dst's Bids were src's: the change to src showed in dst).
func TestS43schemaCopyIntoReusesMemory(t *testing.T) {
	src := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot, Raw: []byte(`{"lastUpdateId":1}`)}
	for i := range 3 {
		src.Book.Bids = append(src.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(100-i), 0), Qty: schema.NewDecimal(1, 0)})
		src.Book.Asks = append(src.Book.Asks, schema.Level{Price: schema.NewDecimal(int64(101+i), 0), Qty: schema.NewDecimal(2, 0)})
	}
	src.Book.LastSeq = 7
	src.UseControl().Reason = "snapshot"

	dst := schema.NewReusableEvent()
	dst.UseExec().Reconciled = true // carried before: let go
	dst.Raw = make([]byte, 0, 64)
	dst.Book.Bids, dst.Book.Asks = make([]schema.Level, 0, 8), make([]schema.Level, 0, 8)
	bids := &dst.Book.Bids[:1][0]
	src.CopyInto(dst)
	require.Equal(t, src.Clone(), dst.Clone())
	assert.Equal(t, schema.SectionControl, dst.Carried())
	assert.NotSame(t, src.Control, dst.Control)
	assert.Same(t, bids, &dst.Book.Bids[0], "dst's own memory")
	src.Book.Bids[0].Qty = schema.NewDecimal(5, 0)
	src.Raw[0] = 'x'
	assert.Equal(t, schema.NewDecimal(1, 0), dst.Book.Bids[0].Qty, "independent of src")
	assert.Equal(t, byte('{'), dst.Raw[0])
	src.CopyInto(src) // into itself: nothing
	assert.Equal(t, byte('x'), src.Raw[0])

	empty := &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventTrade}
	empty.CopyInto(dst)
	assert.Empty(t, dst.Book.Bids)
	assert.Empty(t, dst.Raw)
	assert.Zero(t, dst.Carried())

	if raceEnabled {
		return
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { src.CopyInto(dst) }))
	assert.Equal(t, 2.0, testing.AllocsPerRun(100, func() { src.CloneInto(dst) }), "what CopyInto spares")
}
