package schema_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"unsafe"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s42schPooled takes an event from a pool of one: a Put then a Get hands
// the same event out again (the pool is last in, first out).
func s42schPooled(t *testing.T) (*schema.CanonicalEvent, func(*schema.CanonicalEvent) *schema.CanonicalEvent) {
	t.Helper()
	events := schema.NewPools(nil).Events
	ev, err := events.Get(context.Background())
	require.NoError(t, err)
	cycle := func(ev *schema.CanonicalEvent) *schema.CanonicalEvent {
		events.Put(ev)
		again, err := events.Get(context.Background())
		require.NoError(t, err)
		require.Same(t, ev, again)
		return again
	}
	return ev, cycle
}

func s42schExec() schema.Execution {
	return schema.Execution{
		VenueOrderID:  schema.MustID("o-1"),
		ClientOrderID: schema.MustID("c-1"),
		Price:         schema.MustParseDecimal("67321.45"),
		Qty:           schema.MustParseDecimal("0.010"),
		Status:        schema.StatusPartiallyFilled,
	}
}

// The compact layout (issue #15): the pool's header (16 bytes), the common
// fields (96: Venue and Symbol strings, five 8-byte scalars, Raw), Type (1)
// with the byte-aligned sections beside it (Trade 67, BBO 36: a Decimal is
// 9 bytes), Book (88), eight section pointers (64) and the kept storage's
// pointer (8) are 376 bytes. It was 1,928 with every section by value,
// then 448 with the header's record of the pool's debug mode (now kept by
// the pool), then 440 with 16-byte Decimals and a three-word header; a
// subscriber's clone copies this, and 64 of them (plus the allocator's
// 8-byte header) fit its 24,576-byte size class.
func TestS42schEventIs376Bytes(t *testing.T) {
	var e schema.CanonicalEvent
	assert.Equal(t, uintptr(376), unsafe.Sizeof(e))
	assert.Equal(t, uintptr(67+36+88), unsafe.Sizeof(e.Trade)+unsafe.Sizeof(e.BBO)+unsafe.Sizeof(e.Book), "sections held by value")
}

// A pooled event takes its out-of-line sections from storage it keeps: once
// each was used, a pool cycle that uses them again allocates nothing.
func TestS42schUseOnPooledEventAllocatesNothingOnceWarm(t *testing.T) {
	ev, cycle := s42schPooled(t)
	use := func() {
		ev.UseTicker().Last = schema.MustParseDecimal("1.5")
		ev.UseKline().Closed = true
		ev.UseMark().NextFundingTime = 1
		ev.UseLiquidation().Side = schema.SideSell
		ev.UseExec().Status = schema.StatusFilled
		ev.UseControl().Kind = schema.ControlGap
		ev.UseBalance().Count = 1
		ev.UsePosition().Side = schema.PositionLong
	}
	use()
	ev = cycle(ev)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		use()
		ev.Reset()
	}))
	// A heap event has no kept storage: each Use of a nil section allocates.
	heap := &schema.CanonicalEvent{}
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() {
		heap.UseExec().Status = schema.StatusFilled
		heap.Reset()
	}))
}

// Reset of a pooled event zeroes the kept sections it carries and nils its
// pointers; a section a host pointed at its own memory is let go, its
// memory untouched.
func TestS42schResetZeroesKeptSectionsLeavesHostMemory(t *testing.T) {
	ev, cycle := s42schPooled(t)
	x := ev.UseExec()
	*x = s42schExec()
	host := &schema.Control{Kind: schema.ControlGap, GapCount: 7}
	ev.Control = host
	ev.Type = schema.EventExecReport
	ev = cycle(ev)
	assert.Nil(t, ev.Exec)
	assert.Nil(t, ev.Control)
	assert.Zero(t, *x, "the kept Exec is zeroed")
	assert.Equal(t, schema.Control{Kind: schema.ControlGap, GapCount: 7}, *host, "the host's section is not written")
	assert.Same(t, x, ev.UseExec(), "the kept storage is used again")
	assert.Zero(t, *ev.UseControl())
}

// A kept section the event let go of without a Reset (a host set the
// pointer to nil, or pointed it at its own memory) must not come back with
// its old content at the next Use: Use hands out a zero section.
func TestS42schUseNeverHandsOutAStaleKeptSection(t *testing.T) {
	ev, cycle := s42schPooled(t)
	*ev.UseExec() = s42schExec()
	ev.Exec = nil // dropped: the event does not carry Exec any more
	assert.Zero(t, *ev.UseExec(), "dropped, then used again before a Reset")

	*ev.UseExec() = s42schExec()
	ev.Exec = &schema.Execution{} // pointed at the host's memory
	ev = cycle(ev)
	assert.Zero(t, *ev.UseExec(), "let go of, then used again after a Reset")
}

// CloneInto a pooled c reuses c's kept storage and never lets c's sections
// survive: a section e does not carry is nil in c, and a later Use of it
// is zero.
func TestS42schCloneIntoPooledDropsStaleSections(t *testing.T) {
	c, _ := s42schPooled(t)
	*c.UseExec() = s42schExec()
	kept := c.Exec
	c.UseControl().Kind = schema.ControlGap

	e := &schema.CanonicalEvent{Venue: schema.VenueOKX, Type: schema.EventConnState, Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnConnected}}
	e.CloneInto(c)
	assert.Nil(t, c.Exec, "e carries no Exec")
	assert.Equal(t, *e.Control, *c.Control)
	assert.NotSame(t, e.Control, c.Control)
	assert.Zero(t, *c.UseExec(), "c's old Exec does not come back")
	assert.Same(t, kept, c.Exec, "c's kept storage is reused")
	assert.Zero(t, testing.AllocsPerRun(100, func() { e.CloneInto(c) }), "a pooled c's CloneInto allocates nothing for its sections")
}

// CloneInto into a value copy of a pooled event (which holds the original's
// section pointers and kept storage) must not write into the original's
// storage: the copy's sections become its own.
func TestS42schCloneIntoValueCopyDoesNotAliasOriginal(t *testing.T) {
	ev, _ := s42schPooled(t)
	*ev.UseExec() = s42schExec()
	ev.Type = schema.EventExecReport
	cp := *ev //nolint:govet // a value copy is the case under test
	ev.CloneInto(&cp)
	require.NotSame(t, ev.Exec, cp.Exec)
	cp.Exec.Status = schema.StatusCanceled
	cp.UseTicker().Last = schema.MustParseDecimal("2")
	assert.Equal(t, s42schExec(), *ev.Exec, "the original's Exec is unchanged")
	assert.Nil(t, ev.Ticker)
	assert.Zero(t, *ev.UseTicker(), "the copy's Use took none of the original's kept storage")

	// A value copy's Reset lets go of the original's sections, never
	// zeroes them.
	cp2 := *ev //nolint:govet // a value copy is the case under test
	cp2.Reset()
	assert.Equal(t, s42schExec(), *ev.Exec, "the copy's Reset did not zero the original's Exec")
}

// A pool's leak report (Shutdown with CaptureStacks) reads the Header of
// every event still checked out, atomically, while their holders go on:
// CloneInto a pooled event must leave its Header alone (the race detector
// sees a plain write of it racing with the report).
func TestS42schCloneIntoLeavesTheHeaderAlone(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	c, err := events.Get(context.Background())
	require.NoError(t, err)
	e := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade}
	started, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		e.CloneInto(c)
		close(started)
		for {
			select {
			case <-stop:
				return
			default:
				e.CloneInto(c)
			}
		}
	}()
	<-started
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for range 50 {
		require.ErrorIs(t, events.Shutdown(ended), pool.ErrLeaked)
	}
	close(stop)
	<-done
	assert.True(t, c.Pooled())
	assert.Equal(t, "BTC-USDT", c.Symbol)
	events.Put(c)
	require.NoError(t, events.Shutdown(context.Background()))
}

// A clone's sections are its own: changing one (the original's or the
// clone's) leaves the other as it was, for every out-of-line section.
func TestS42schCloneSectionsAreIndependent(t *testing.T) {
	ev, _ := s42schPooled(t)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventExecReport
	*ev.UseExec() = s42schExec()
	ev.UseControl().Kind = schema.ControlGap
	ev.UseTicker().Window = "1h"
	ev.UseKline().Interval = "1m"
	ev.UseMark().NextFundingTime = 5
	ev.UseLiquidation().Side = schema.SideBuy
	ev.UseBalance().Count = 2
	ev.UsePosition().Side = schema.PositionShort
	for name, c := range map[string]*schema.CanonicalEvent{"Clone": ev.Clone(), "CloneInto heap": func() *schema.CanonicalEvent {
		c := &schema.CanonicalEvent{Exec: &schema.Execution{}}
		ev.CloneInto(c)
		return c
	}()} {
		require.Equal(t, *ev.Exec, *c.Exec, name)
		require.NotSame(t, ev.Exec, c.Exec, name)
		require.NotSame(t, ev.Control, c.Control, name)
		require.NotSame(t, ev.Ticker, c.Ticker, name)
		require.NotSame(t, ev.Kline, c.Kline, name)
		require.NotSame(t, ev.Mark, c.Mark, name)
		require.NotSame(t, ev.Liquidation, c.Liquidation, name)
		require.NotSame(t, ev.Balance, c.Balance, name)
		require.NotSame(t, ev.Position, c.Position, name)
		c.Exec.Status = schema.StatusRejected
		c.Control.Kind = schema.ControlVenueError
		assert.Equal(t, schema.StatusPartiallyFilled, ev.Exec.Status, name)
		assert.Equal(t, schema.ControlGap, ev.Control.Kind, name)
		ev.Ticker.Window = "4h"
		assert.Equal(t, "1h", c.Ticker.Window, name)
		ev.Ticker.Window = "1h"
		assert.False(t, c.Pooled(), name)
	}
	// The clone of a trade carries no out-of-line section.
	tr := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade}
	c := tr.Clone()
	assert.Nil(t, c.Exec)
	assert.Nil(t, c.Ticker)
	assert.Nil(t, c.Control)
}

// goccy/go-json v2 leaves out the sections an event does not carry and
// brings back those it carries.
func TestS42schJSONOmitsNilSectionsAndRoundTrips(t *testing.T) {
	tr := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade,
		Trade: schema.Trade{ID: schema.MustID("1"), Price: schema.MustParseDecimal("1.50"), Qty: schema.MustParseDecimal("2"), Side: schema.SideBuy},
		// Nil slices come back empty (v2 encodes them as [] and "").
		Raw: []byte{}, Book: schema.Book{Bids: []schema.Level{}, Asks: []schema.Level{}}}
	b, err := json.Marshal(tr)
	require.NoError(t, err)
	for _, s := range []string{"Ticker", "Kline", "Mark", "Liquidation", "Exec", "Control", "Balance", "Position", "kept", "Header"} {
		assert.NotContains(t, string(b), `"`+s+`"`, "%s", b)
	}
	var back schema.CanonicalEvent
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, *tr, back)

	gap := &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventGap,
		Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventExecReport, GapCount: 2},
		Raw:     []byte{}, Book: schema.Book{Bids: []schema.Level{}, Asks: []schema.Level{}}}
	ex := s42schExec()
	gap.Exec = &ex
	b, err = json.Marshal(gap)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"Control"`)
	assert.Contains(t, string(b), `"Exec"`)
	assert.NotContains(t, string(b), `"Ticker"`)
	back = schema.CanonicalEvent{}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, *gap, back)
	assert.False(t, back.Pooled())
}

// Validate of an account update without its section is a typed error, not
// a nil dereference.
func TestS42schValidateMissingAccountSection(t *testing.T) {
	for typ, field := range map[schema.EventType]string{schema.EventBalance: "Balance", schema.EventPosition: "Position"} {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: typ}
		var err error
		require.NotPanics(t, func() { err = ev.Validate() })
		var ve *schema.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		assert.Equal(t, field, ve.Field)
		assert.Equal(t, "missing", ve.Reason)
	}
}

// TestS42schResetZeroesKeptStorage: every section of a pooled event's kept
// storage has a Use method that hands it out, and a pool cycle zeroes
// every byte of every section handed out, even one the event let go of.
// A section added to the storage and forgotten by Use or Reset fails here.
func TestS42schResetZeroesKeptStorage(t *testing.T) {
	ev, cycle := s42schPooled(t)
	et := reflect.TypeOf(ev)
	sections := 0
	var kept reflect.Value
	for _, use := range []string{"Ticker", "Kline", "Mark", "Liquidation", "Exec", "Control", "Balance", "Position"} {
		m, ok := et.MethodByName("Use" + use)
		require.True(t, ok, "no Use%s", use)
		got := m.Func.Call([]reflect.Value{reflect.ValueOf(ev)})[0]
		k, own := schema.KeptStorage(ev)
		require.True(t, own)
		kept = reflect.ValueOf(k).Elem()
		f := kept.FieldByName(use)
		require.True(t, f.IsValid(), "the kept storage has no %s", use)
		require.Equal(t, f.Addr().Pointer(), got.Pointer(), "Use%s hands out the kept section", use)
		fill(f)
		require.False(t, f.IsZero())
	}
	ev.Exec = nil // let go of: a Reset zeroes it all the same
	for i := range kept.NumField() {
		if kept.Type().Field(i).IsExported() {
			sections++
		}
	}
	assert.Equal(t, 8, sections, "every kept section has a Use method above")
	k, _ := schema.KeptStorage(ev)
	ev = cycle(ev)
	k2, own := schema.KeptStorage(ev)
	require.Same(t, k, k2, "the storage is kept")
	require.True(t, own)
	for i := range kept.NumField() {
		if f := kept.Type().Field(i); f.IsExported() {
			assert.True(t, kept.Field(i).IsZero(), "Reset left kept %s set", f.Name)
		}
	}
	assert.True(t, kept.FieldByName("used").IsZero())
}

// FuzzS42schDecodedEvent: an event a host decoded from any JSON carries
// any mix of nil and set sections, whatever its Type. Validate gives nil
// or a *ValidationError, and Clone, CloneInto a pooled event, and the pool
// cycle never panic; the copies encode as the original does.
func FuzzS42schDecodedEvent(f *testing.F) {
	for _, s := range []string{
		`{"Venue":"binance","Symbol":"BTC-USDT","Type":1}`,
		`{"Venue":"binance","Type":16}`,
		`{"Venue":"binance","Symbol":"BTC-USDT","Type":17,"Position":null}`,
		`{"Venue":"okx","Type":13,"Control":{"Kind":1,"GapType":9},"Exec":{"Status":3}}`,
		`{"Venue":"bybit","Symbol":"ETH-USDT","Type":4,"Ticker":{"Window":"1h"},"Kline":{"Interval":"1m"}}`,
		`{"Venue":"kraken","Symbol":"BTC-USD","Type":16,"Balance":{"Asset":"BTC","Kind":1,"Free":"-1"}}`,
		`{"Book":{"Bids":[{"Price":"1.0","Qty":"2"}],"Asks":[]},"Raw":"e30="}`,
	} {
		f.Add([]byte(s))
	}
	events := schema.NewPools(nil).Events
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev schema.CanonicalEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		if err := ev.Validate(); err != nil {
			var ve *schema.ValidationError
			require.ErrorAs(t, err, &ve)
		}
		want, err := json.Marshal(&ev)
		require.NoError(t, err)
		c := ev.Clone()
		got, err := json.Marshal(c)
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(got))
		pooled, err := events.Get(context.Background())
		require.NoError(t, err)
		defer events.Put(pooled)
		ev.CloneInto(pooled)
		got, err = json.Marshal(pooled)
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(got))
	})
}

// A value copy kept to restore a pooled event from (saved := *ev, then
// saved.CloneInto(ev)) points at ev's kept sections: CloneInto must read
// them before it hands ev's storage out again, zeroed.
func TestS42schCloneIntoFromValueCopyRestores(t *testing.T) {
	ev, _ := s42schPooled(t)
	ev.Type = schema.EventExecReport
	*ev.UseExec() = s42schExec()
	ev.UseControl().Kind = schema.ControlGap
	saved := *ev //nolint:govet // a value copy is the case under test
	saved.CloneInto(ev)
	require.NotNil(t, ev.Exec)
	assert.Equal(t, s42schExec(), *ev.Exec)
	assert.Equal(t, schema.ControlGap, ev.Control.Kind)
}
