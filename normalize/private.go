package normalize

import (
	"errors"
	"fmt"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

// ErrUnknownStatus: a venue's execution report names an order status the
// parser does not know. The report is dropped with a [*ParseError] (its
// Field the venue's status key) rather than delivered with a status a
// strategy could misread; the error names the word so that the mapping can
// be extended. A report that carries a fill is not dropped: its status is
// derived from its quantities (PartiallyFilled, or Filled once the
// cumulative fill reaches the order's quantity).
var ErrUnknownStatus = errors.New("normalize: unknown order status")

// ErrUnknownExecType: a venue's execution report names a kind of execution
// the parser does not know. The report is dropped with a [*ParseError]
// (its Field the venue's key) rather than delivered as ExecUnknown, which
// a strategy cannot tell from a report that is no fill; a report whose
// quantities show a fill is not dropped for the word (see each venue).
var ErrUnknownExecType = errors.New("normalize: unknown execution type")

// execType returns the execution type the venue's word names; a word the
// table does not name is a *ParseError wrapping ErrUnknownExecType (and
// ExecUnknown). An absent key is ExecUnknown.
func (f *filler) execType(field string, words map[string]schema.ExecType, t *text) schema.ExecType {
	e, ok := words[string(t.bytes())]
	if !ok && t.ok {
		f.fail(field, fmt.Errorf("%w %q", ErrUnknownExecType, t.bytes())) // allocates on this error path only
	}
	return e
}

// needID fails with ErrMissingField unless the order id was sent and is
// not empty: a report of no order cannot be matched to one.
func (f *filler) needID(field string, id ident) {
	f.need(field, id.ok && !id.v.IsZero())
}

// needFill refuses a Trade report whose fill quantity is not positive
// ("trade" without last_qty, execQty "0" or "-0", which
// [schema.ParseDecimal] reads as 0): a fill of nothing is a malformed
// report, never a fill a strategy would count. Only a report that says it
// is a fill must carry one; a NEW or CANCELED report carries 0. Binance
// spot "Payload: Order Update" (executionReport) and USDⓈ-M "Event: Order
// Update" (ORDER_TRADE_UPDATE): "l" the last executed quantity, an
// execution type "x" TRADE a fill (a positive "l" reads as one whatever
// the word, binanceWords); Bybit v5 "Execution": execQty of an execType
// Trade (funding and settlement rows are no order's: ignored), "Fast
// Execution" every row a trade; Kraken v2 "executions": last_qty of an
// exec_type trade. OKX v5 "Order channel" and Coinbase Advanced Trade
// "user" have no such word: OKX's fillSz is "0" in a push that is no fill
// (a positive one is the fill), Coinbase's fill is the growth of
// cumulative_quantity — neither can name a fill of nothing.
func (f *filler) needFill(field string) {
	if x := f.ev.Exec; x != nil && x.ExecType == schema.ExecTrade && x.LastFillQty.Sign() <= 0 {
		f.fail(field, fmt.Errorf("%w: a fill of no quantity", ErrBadValue))
	}
}

// status sets an order status from the venue's word; a word the table does
// not name is a *ParseError wrapping ErrUnknownStatus — unless the report
// carries a fill (fill true): a fill is never dropped for a word the parser
// does not know, and status then reports derive, for the caller to set the
// status from the quantities ([fillStatus]). An absent key leaves dst
// unchanged.
func (f *filler) status(dst *schema.OrderStatus, field string, words map[string]schema.OrderStatus, t *text, fill bool) (derive bool) {
	if !t.ok {
		return false
	}
	s, ok := words[string(t.bytes())]
	switch {
	case ok:
		*dst = s
	case fill:
		return true
	default:
		f.fail(field, fmt.Errorf("%w %q", ErrUnknownStatus, t.bytes())) // allocates on this error path only
	}
	return false
}

// fillStatus is the status a fill implies when the venue's word is not
// known: Filled once the cumulative fill reaches the order's quantity,
// PartiallyFilled otherwise.
func fillStatus(x *schema.Execution) schema.OrderStatus {
	if x.Qty.Sign() > 0 && x.CumFillQty.Cmp(x.Qty) >= 0 {
		return schema.StatusFilled
	}
	return schema.StatusPartiallyFilled
}

// endRemaining zeroes the remaining quantity of an ended order: RemainingQty
// is the FIX LeavesQty, "quantity open for further execution", 0 once the
// order is done (filled, canceled, expired, rejected), whatever of its
// quantity never filled (schema.Execution.RemainingQty). Venues differ:
// Bybit's leavesQty and Coinbase's leaves_quantity say it, Binance, OKX
// and Kraken send only the order's and the executed quantity.
func endRemaining(x *schema.Execution) {
	if x.Status.Final() && x.RemainingQty.Sign() != 0 {
		x.RemainingQty, _ = x.RemainingQty.Sub(x.RemainingQty) // 0 at the venue's scale, as a filled order's q − z
	}
}

// execRemaining sets the remaining quantity from the venue's own field
// (leavesQty, leaves_quantity), which venues send because the order's
// quantity can change (amendments) or be in another unit.
func (f *filler) execRemaining(field string, n num) {
	f.price(&f.ev.UseExec().RemainingQty, field, n)
}

// execCumQuote sets CumQuoteQty = AvgPrice × CumFillQty for venues that send
// only the average price; an overflow leaves it zero.
func execCumQuote(x *schema.Execution) {
	if x.CumQuoteQty.Sign() != 0 || x.AvgPrice.Sign() <= 0 || x.CumFillQty.Sign() <= 0 {
		return
	}
	if q, err := mulRounded(x.AvgPrice, x.CumFillQty); err == nil {
		x.CumQuoteQty = q
	}
}

// wideSlot holds the decode struct of a message of many members (OKX's
// orders push has about 55, Bybit's order about 50). goccy refuses
// duplicate names by remembering an object's names, in a map allocated for
// every object of more than 32: such messages are decoded with duplicate
// names allowed, which costs no allocation. Nothing is let through by it:
// the envelope's pass over the frame, which finds the message, has already
// refused a message naming a member twice (TestWideMessagesRefuseDuplicateNames).
type wideSlot[M any, P interface {
	*M
	message
}] struct{ slotOf[M, P] }

func newWideSlot[M any, P interface {
	*M
	message
}]() slot {
	return &wideSlot[M, P]{}
}

// wideOpts is a slice made once: a variadic argument list built per call
// would be allocated per call.
var wideOpts = []json.Options{jsontext.AllowDuplicateNames(true)}

func (s *wideSlot[M, P]) decode(p *Parser, in []byte, _ *schema.CanonicalEvent) error {
	var zero M
	s.m = zero
	return p.unmarshal(in, P(&s.m), wideOpts...)
}

// optInteger is an integer where "" means not sent, as OKX sends the times
// of what did not happen (fillTime of a push that is no fill).
type optInteger struct{ integer }

func (n *optInteger) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	if string(v) == `""` || string(v) == "null" {
		return nil
	}
	x, ok := parseInt(unquoted(v))
	if !ok {
		return errWantInteger
	}
	n.v, n.ok = x, true
	return nil
}

// maxRecentFills is how many of the latest fills a parser remembers to
// drop their repeats; minRecentFills how many the set is first made for
// (it grows, doubling, with the fills held: a set made at its bound costs
// about 1 MB on a parser's first fill, mostly never used).
const (
	maxRecentFills = 2048
	minRecentFills = 16
)

// fillKey names one fill of one order: a venue's trade id alone is unique
// per instrument only, and a trade between two of our own orders is a
// fill of each.
type fillKey struct {
	symbol       string
	order, trade schema.ID
}

// recentFills is a set of the latest maxRecentFills fills, each with the
// order status it was delivered with, the oldest forgotten first. Made on
// the first fill (a market-data parser has none), small, and grown with
// the fills held up to its bound. Full, it still grows for a while: the
// map's deletions leave tombstones Go's map grows over (measured: two
// growths some 7 and 9 bounds' fills in, about 3.5 MB allocated in all, made small
// or at its bound alike); settled, a new fill allocates nothing
// (TestS41rvnormRecentFillsSettleThenZeroAllocs).
type recentFills struct {
	set  map[fillKey]fillSeen
	ring []fillKey
	next int
}

// amendResult is a report's word on an amendment of its order.
type amendResult uint8

const (
	amendNone   amendResult = iota // not an amendment's result
	amendDone                      // amended (OKX amendResult "0", "2")
	amendFailed                    // refused, the order as it was (OKX "-1")
)

// fillSeen is what a fill's report said of its order: a restatement of
// the fill that says otherwise carries news.
type fillSeen struct {
	status     schema.OrderStatus
	price, qty schema.Decimal
	reason     string // RejectReason: interned or the parser's own, never the frame's
	ts         int64  // the latest ExchangeTS delivered of it
}

// repeatFill reports whether ev, an execution report, repeats a fill the
// parser delivered (it is then to be dropped and counted in
// Stats.Repeats); otherwise it remembers ev's fill. A venue sends a fill
// again when two connections carry the same account (the overlap of a
// make-before-break rotation), and in the snapshot after a reconnect
// (Kraken's snap_trades: "the last 50 order fills"). Only fills with a
// trade id are remembered (Coinbase's carry none: see cbOrders).
//
// A repeat that brings the order to a final status it was not delivered
// with (a push that restates the order's last fill beside its new state,
// as OKX's orders channel sends the last fill's fields with every push of
// the order) is not dropped: the status is news a strategy must see. It
// is delivered as that status's report, its fill removed, so the fill is
// still counted once. So is a restatement beside a new price or quantity
// of a working order (OKX's amend-order of a partly filled order: a push
// with amendResult "0", the new px and sz, and the last fill's fields):
// an Amendment report without the fill; and beside a new reason (a
// failed amendment's msg): that status's report with the reason, without
// the fill. Every amendment's result is one (OKX: each amend-order
// request's push, amendResult set, uTime later than the last delivered):
// a second failure with the reason of the first, an amendment of what
// neither price nor quantity says (OKX attachAlgoOrds' take-profit and
// stop-loss). An amendment's push older than the last delivered (the
// other connection's, in a rotation) is a repeat.
//
// A report that names no status (Bybit v5 "Fast Execution": no order
// price, quantity or status) tells nothing of the order: a repeat after
// the fill's full report, never an amendment. Before it (the topics are
// pushed apart; a bot takes both, the fast one for its latency), the full
// report is news — the order's status, its remaining quantity and the
// fill's fee, which the fast push lacks — and is delivered as the status
// report without the fill, its fee kept (delivered with no fill before).
//
// amend is what ev's own message says of an amendment (filler.amend): the
// word lives and dies with the message, so no later report reads it.
func (p *Parser) repeatFill(ev *schema.CanonicalEvent, amend amendResult) bool {
	x := ev.Exec
	r := &p.fills
	if x == nil || x.ExecType != schema.ExecTrade || x.TradeID.IsZero() || x.Reconciled {
		return false
	}
	key := fillKey{symbol: ev.Symbol, order: x.VenueOrderID, trade: x.TradeID}
	seen := fillSeen{status: x.Status, price: x.Price, qty: x.Qty, reason: x.RejectReason, ts: ev.ExchangeTS}
	if was, ok := r.set[key]; ok {
		older := ev.ExchangeTS < was.ts
		result := amend != amendNone && ev.ExchangeTS > was.ts // an amendment's result not delivered yet
		final := x.Status.Final() && x.Status != was.status
		named, wasNamed := x.Status != schema.StatusUnknown, was.status != schema.StatusUnknown
		informs := named && !wasNamed // the fill's full report after its fast push
		amended := named && wasNamed && !x.Status.Final() && !older &&
			(!x.Price.Equal(was.price) || !x.Qty.Equal(was.qty) || (result && amend == amendDone))
		refused := x.RejectReason != "" && !older && (x.RejectReason != was.reason || result) // OKX: an amendment that failed ("-1")
		if !final && !amended && !refused && !informs {
			p.stats.repeats.Add(1)
			return true
		}
		seen.ts = max(seen.ts, was.ts)
		r.set[key] = seen
		fee, feeAsset := x.Fee, x.FeeAsset
		withoutFill(x)
		if informs { // the fast push carried no fee
			x.Fee, x.FeeAsset = fee, feeAsset
		}
		if amended {
			x.ExecType = schema.ExecAmendment
		}
		return false
	}
	if r.set == nil {
		r.set = make(map[fillKey]fillSeen, minRecentFills)
		r.ring = make([]fillKey, 0, minRecentFills)
	}
	if len(r.ring) < maxRecentFills {
		if len(r.ring) == cap(r.ring) { // doubled, never past the bound
			ring := make([]fillKey, len(r.ring), min(2*cap(r.ring), maxRecentFills))
			copy(ring, r.ring)
			r.ring = ring
		}
		r.ring = append(r.ring, key)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = key
		r.next = (r.next + 1) % maxRecentFills
	}
	r.set[key] = seen
	return false
}

// finalExecs is the ExecType of a report that only tells an order's final
// status; any other status (Filled, PartiallyFilled, New) is an
// ExecOrderStatus: no execution but the status.
var finalExecs = map[schema.OrderStatus]schema.ExecType{
	schema.StatusCanceled: schema.ExecCanceled, schema.StatusRejected: schema.ExecRejected,
	schema.StatusExpired: schema.ExecExpired, schema.StatusExpiredInMatch: schema.ExecTradePrevention,
}

// withoutFill makes a report of a repeated fill the report of its order's
// status alone.
func withoutFill(x *schema.Execution) {
	x.ExecType = schema.ExecOrderStatus
	if e, ok := finalExecs[x.Status]; ok {
		x.ExecType = e
	}
	x.TradeID, x.FeeAsset = schema.ID{}, schema.ID{}
	x.LastFillQty, x.LastFillPrice, x.Fee, x.RealizedPnL = schema.Decimal{}, schema.Decimal{}, schema.Decimal{}, schema.Decimal{}
	x.IsMaker = false
}
