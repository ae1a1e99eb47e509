package normalize

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s41fuzzCheck is the property the frame fuzzers hold every published
// event to, beyond Validate: the canonical invariants a consumer relies on.
//
//   - every Decimal anywhere in the event is well formed (scale in
//     0..MaxScale, mantissa not math.MinInt64) and prints to text that
//     parses back to the identical value: exact decimals;
//   - the Type says which section holds the data: the other by-value
//     sections (Trade, BBO, Book) are zero and the other out-of-line
//     sections nil (schema.CanonicalEvent), but for what a gap marker may
//     name of the stream it is about: Book.Depth, and a Ticker or Kline
//     section holding only a window (Ticker.Window, not empty, and
//     WindowClose) or an interval (Kline.Interval, not empty);
//   - quantities are not negative: book levels, trades, liquidations and
//     an execution's order, fill, cumulative and remaining quantities; a
//     book level's price is positive;
//   - an execution report names an order, and a final one has nothing
//     remaining (schema.Execution.RemainingQty).
func s41fuzzCheck(ev *schema.CanonicalEvent) error {
	if err := ev.Validate(); err != nil {
		return err
	}
	if err := s41fuzzDecimals(reflect.ValueOf(ev).Elem(), "ev"); err != nil {
		return err
	}
	if err := s41fuzzSections(ev); err != nil {
		return err
	}
	return s41fuzzSigns(ev)
}

var s41fuzzDecimalType = reflect.TypeFor[schema.Decimal]()

// s41fuzzDecimals walks v and checks every Decimal in it.
func s41fuzzDecimals(v reflect.Value, path string) error {
	if v.Type() == s41fuzzDecimalType {
		d := v.Interface().(schema.Decimal)
		if d.Scale() < 0 || d.Scale() > schema.MaxScale || d.Mantissa() == math.MinInt64 {
			return fmt.Errorf("%s: malformed decimal mant %d scale %d", path, d.Mantissa(), d.Scale())
		}
		back, err := schema.ParseDecimal(d.String())
		if err != nil || !back.Identical(d) {
			return fmt.Errorf("%s: %s does not parse back to itself (%v, %v)", path, d, back, err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				if err := s41fuzzDecimals(v.Field(i), path+"."+v.Type().Field(i).Name); err != nil {
					return err
				}
			}
		}
	case reflect.Pointer: // an out-of-line section the event carries
		if !v.IsNil() {
			return s41fuzzDecimals(v.Elem(), path)
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := s41fuzzDecimals(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// s41fuzzSections checks that only the sections of the event's type are
// set: the others held by value are zero, the others held out of line nil.
func s41fuzzSections(ev *schema.CanonicalEvent) error {
	own := map[string]bool{}
	switch ev.Type {
	case schema.EventTrade:
		own["Trade"] = true
	case schema.EventBBO:
		own["BBO"] = true
	case schema.EventBookSnapshot, schema.EventBookUpdate:
		own["Book"] = true
	case schema.EventTicker:
		own["Ticker"] = true
	case schema.EventKlineLive, schema.EventKlineClosed:
		own["Kline"] = true
	case schema.EventMarkPrice, schema.EventFundingRate:
		own["Mark"] = true
	case schema.EventLiquidation:
		own["Liquidation"] = true
	case schema.EventExecReport, schema.EventOrderAck:
		own["Exec"] = true
		own["Control"] = ev.Type == schema.EventOrderAck
	case schema.EventGap, schema.EventConnState, schema.EventControl:
		own["Control"] = true
	case schema.EventBalance:
		own["Balance"] = true
	case schema.EventPosition:
		own["Position"] = true
	}
	c := *ev
	if ev.Type == schema.EventGap { // what the marker names of its stream
		c.Book.Depth = 0
		if t := c.Ticker; t != nil && t.Window != "" && *t == (schema.Ticker{Window: t.Window, WindowClose: t.WindowClose}) {
			c.Ticker = nil
		}
		if k := c.Kline; k != nil && k.Interval != "" && *k == (schema.Kline{Interval: k.Interval}) {
			c.Kline = nil
		}
	}
	sections := map[string]bool{
		"Trade": c.Trade == schema.Trade{}, "BBO": c.BBO == schema.BBO{},
		"Book":   len(c.Book.Bids)+len(c.Book.Asks) == 0 && c.Book.FirstSeq == 0 && c.Book.LastSeq == 0 && c.Book.PrevSeq == 0 && !c.Book.HasChecksum && c.Book.Checksum == 0 && c.Book.Depth == 0,
		"Ticker": c.Ticker == nil, "Kline": c.Kline == nil, "Mark": c.Mark == nil,
		"Liquidation": c.Liquidation == nil, "Exec": c.Exec == nil,
		"Control": c.Control == nil, "Balance": c.Balance == nil,
		"Position": c.Position == nil,
	}
	for name, zero := range sections {
		if !own[name] && !zero {
			return fmt.Errorf("a %v event has its %s section set", ev.Type, name)
		}
	}
	return nil
}

// s41fuzzSigns checks the signs of quantities and prices.
func s41fuzzSigns(ev *schema.CanonicalEvent) error {
	neg := func(what string, d schema.Decimal) error {
		if d.Sign() < 0 {
			return fmt.Errorf("%v: negative %s %s", ev.Type, what, d)
		}
		return nil
	}
	var errs []error
	for i, l := range append(append([]schema.Level(nil), ev.Book.Bids...), ev.Book.Asks...) {
		errs = append(errs, neg("level qty", l.Qty))
		if l.Price.Sign() <= 0 {
			errs = append(errs, fmt.Errorf("%v: level %d price %s not positive", ev.Type, i, l.Price))
		}
	}
	errs = append(errs, neg("trade qty", ev.Trade.Qty))
	if l := ev.Liquidation; l != nil {
		errs = append(errs, neg("liquidation qty", l.Qty), neg("liquidation filled qty", l.FilledQty))
	}
	var x schema.Execution // a report without its section names no order
	if ev.Exec != nil {
		x = *ev.Exec
	}
	errs = append(errs, neg("order qty", x.Qty), neg("last fill qty", x.LastFillQty),
		neg("cumulative fill qty", x.CumFillQty), neg("remaining qty", x.RemainingQty))
	if ev.Type == schema.EventExecReport {
		if x.ClientOrderID.IsZero() && x.VenueOrderID.IsZero() {
			errs = append(errs, fmt.Errorf("an execution report that names no order: %+v", x))
		}
		if x.Status.Final() && !x.RemainingQty.IsZero() {
			errs = append(errs, fmt.Errorf("a final (%v) report with %s remaining", x.Status, x.RemainingQty))
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestS41fuzzCheckRefuses shows the property can fail: each event breaks
// one invariant s41fuzzCheck holds the fuzzers' events to.
func TestS41fuzzCheckRefuses(t *testing.T) {
	ok := func() *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade,
			Trade: schema.Trade{Price: schema.NewDecimal(1, 0), Qty: schema.NewDecimal(1, 0)}}
	}
	require.NoError(t, s41fuzzCheck(ok()))
	for name, bad := range map[string]func(*schema.CanonicalEvent){
		"other section": func(ev *schema.CanonicalEvent) { ev.BBO.BidQty = schema.NewDecimal(1, 0) },
		"negative qty":  func(ev *schema.CanonicalEvent) { ev.Trade.Qty = schema.NewDecimal(-1, 0) },
		"level price": func(ev *schema.CanonicalEvent) {
			ev.Type, ev.Trade = schema.EventBookUpdate, schema.Trade{}
			ev.Book.Bids = []schema.Level{{Qty: schema.NewDecimal(1, 0)}}
		},
		"no order": func(ev *schema.CanonicalEvent) {
			ev.Type, ev.Trade = schema.EventExecReport, schema.Trade{}
			ev.UseExec().Status = schema.StatusNew
		},
		"final with remaining": func(ev *schema.CanonicalEvent) {
			ev.Type, ev.Trade = schema.EventExecReport, schema.Trade{}
			ev.Exec = &schema.Execution{VenueOrderID: schema.MustID("1"), Status: schema.StatusFilled, RemainingQty: schema.NewDecimal(1, 0)}
		},
	} {
		ev := ok()
		bad(ev)
		require.Error(t, s41fuzzCheck(ev), name)
	}
}

// s41fuzzNoPanic fails when the decoder panicked inside the parser: the
// parser recovers it as ErrDecoderPanic (its boundary with goccy), but a
// fuzzer that finds one has found a decoder bug to report and route
// around, not an input to pass over.
func s41fuzzNoPanic(t *testing.T, p interface{ Stats() Stats }) {
	t.Helper()
	if n := p.Stats().Panics; n != 0 {
		t.Fatalf("the decoder panicked %d times (recovered as ErrDecoderPanic)", n)
	}
}
