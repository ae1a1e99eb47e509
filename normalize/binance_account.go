package normalize

import (
	"context"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/schema"
)

// Binance's account updates: what the user-data stream says about balances
// and positions, as schema.EventBalance and schema.EventPosition events
// (one per asset and one per position, see package schema), and the
// USDⓈ-M account settings as schema.ControlAccountConfig control events.
//
// Spot (Binance "User Data Streams for Binance", "User Data Stream
// Events"):
//
//   - outboundAccountPosition ("Account Update"), sent whenever a balance
//     changed, with the assets the change may have touched:
//     {"e","E" event time,"u" time of the last account update,
//     "B":[{"a" asset,"f" free,"l" locked}]}: a BalanceSnapshot per entry.
//   - balanceUpdate ("Balance Update"), a deposit, a withdrawal or a
//     transfer between accounts: {"e","E","a" asset,"d" balance delta,
//     "T" clear time}: a BalanceDelta.
//   - externalLockUpdate ("External Lock Update"), part of the spot balance
//     locked or unlocked by an outside system: {"e","E","a","d" delta,
//     "T" transaction time}: a BalanceLockDelta.
//
// USDⓈ-M futures (Binance USDⓈ-M Futures "User Data Streams"):
//
//   - ACCOUNT_UPDATE ("Event: Balance and Position Update"), pushed only
//     for what changed: {"e","E","T" transaction time,"a":{"m" reason,
//     "B":[{"a","wb" wallet balance,"cw" cross wallet balance,"bc" balance
//     change except PnL and commission}],"P":[{"s","pa" amount,"ep" entry
//     price,"bep" break-even price,"cr" accumulated realized (pre-fee),
//     "up" unrealized PnL,"mt" margin type,"iw" isolated wallet,"ps"
//     position side}]}}: a BalanceWallet per "B" entry, then a position
//     per "P" entry.
//   - MARGIN_CALL ("Event: Margin Call"): {"e","E","cw" cross wallet
//     balance (crossed positions only),"p":[{"s","ps","pa","mt","iw",
//     "mp" mark price,"up","mm" maintenance margin required}]}: a position
//     per entry, with MarginCall set.
//   - ACCOUNT_CONFIG_UPDATE ("Event: Account Configuration Update previous
//     Leverage Update"): {"e","E","T","ac":{"s","l" leverage}} or
//     {"e","E","T","ai":{"j" multi-assets mode}}: a control event.
//
// (ORDER_TRADE_UPDATE, the futures order update, is an execution report:
// binance_futures_user.go.)
//
// A message with several entries is decoded once, its entries found by
// position, and each entry decoded on its own into the next event: an
// entry that fails is dropped with its *ParseError, the others are still
// published; Stats.Messages counts each entry (a message with none counts
// once). With Options.KeepRaw an event's Raw is its entry, not the whole
// message.

// bnState is the Binance parser's own state: the messages that are split
// into entries, decoded here rather than in a kind's slot, and the batch
// being published.
type bnState struct {
	first, second []span // entries of the current message, reused
	spot          bnAccountPositionMsg
	futures       bnAccountUpdateMsg
	margin        bnMarginCallMsg
	cur           bnBatch
	// rawViews: the partial depth view of each symbol ("BTCUSDT") that
	// Options.RawStreams lists, bnAmbiguous where its diff stream is
	// listed too; nil when none is.
	rawViews map[string]int
	probe    bnDepthProbe
	// contracts: the status last delivered of each contract (contractInfo
	// "cs" by canonical symbol), so that a bracket update repeating it is
	// not delivered again; bounded as the parser's other per-symbol state.
	contracts    map[string]string
	contractMemo symMemo[string] // the status of the event being read
}

// bnBatch is what every entry of a split message shares.
type bnBatch struct {
	event, update integer // "E"; "u" or "T"
	reason        string
	crossWallet   num // MARGIN_CALL "cw"
	index, count  uint32
}

// entries records the elements of an array member in storage bound before
// decoding; null is an empty list.
type entries struct {
	spans
	seen bool
}

func (e *entries) bind(list *[]span) { e.spans = spans{list: list}; *list = (*list)[:0] }

func (e *entries) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	e.seen = true
	if in.PeekKind() == 'n' {
		return in.SkipValue()
	}
	if in.PeekKind() == '{' { // one entry must still be an array
		if err := in.SkipValue(); err != nil {
			return err
		}
		return errWantArray
	}
	return e.spans.UnmarshalJSONFrom(in)
}

type bnAccountPositionMsg struct {
	E integer `json:"E"`
	U integer `json:"u"`
	B entries `json:"B"`
}

type bnAccountUpdateMsg struct {
	E integer `json:"E"`
	T integer `json:"T"`
	A struct {
		M text    `json:"m"`
		B entries `json:"B"`
		P entries `json:"P"`
	} `json:"a"`
}

type bnMarginCallMsg struct {
	E  integer `json:"E"`
	CW num     `json:"cw"`
	P  entries `json:"p"`
}

// reasonMarginCall is the Reason of a margin call's positions.
const reasonMarginCall = "MARGIN_CALL"

// decode decodes a message of split kind k into st, its entries' places
// into st.first and st.second, and returns the message's name.
func (st *bnState) decode(p *Parser, k int, payload []byte) (name string, err error) {
	var dec any
	switch k {
	case bnSplitAccountPosition:
		name, dec = "outboundAccountPosition", &st.spot
		st.spot = bnAccountPositionMsg{}
		st.spot.B.bind(&st.first)
	case bnSplitAccountUpdate:
		name, dec = "ACCOUNT_UPDATE", &st.futures
		st.futures = bnAccountUpdateMsg{}
		st.futures.A.B.bind(&st.first)
		st.futures.A.P.bind(&st.second)
	default:
		name, dec = "MARGIN_CALL", &st.margin
		st.margin = bnMarginCallMsg{}
		st.margin.P.bind(&st.second)
	}
	return name, p.unmarshal(payload, dec)
}

// binanceEntries publishes the entries of a message of split kind k.
func (p *Parser) binanceEntries(ctx context.Context, k int, payload []byte, ingest int64) error {
	st := p.state.(*bnState)
	name, err := st.decode(p, k, payload)
	if err != nil {
		if p.resplitOr(err) == errResplit {
			// A member after the cut payload (binanceFastSplit): the
			// frame is split again by goccy, as run does.
			return errResplit
		}
		return p.badDecode(name, err)
	}
	first, second := bnBalanceEntry, bnPositionEntry
	var a, b []span
	cur := &st.cur
	*cur = bnBatch{}
	switch k {
	case bnSplitAccountPosition:
		m := &st.spot
		if !m.B.seen {
			return p.bad(name, "B", ErrMissingField)
		}
		first, a, cur.event, cur.update = bnSpotBalanceEntry, st.first, m.E, m.U
	case bnSplitAccountUpdate:
		m := &st.futures
		if !m.A.B.seen && !m.A.P.seen {
			return p.bad(name, "a", ErrMissingField)
		}
		a, b, cur.event, cur.update = st.first, st.second, m.E, m.T
		cur.reason = p.intern(m.A.M.bytes())
	default:
		m := &st.margin
		if !m.P.seen {
			return p.bad(name, "p", ErrMissingField)
		}
		second, b, cur.event, cur.reason, cur.crossWallet = bnMarginCallEntry, st.second, m.E, reasonMarginCall, m.CW
	}
	if !cur.event.ok {
		return p.bad(name, "E", ErrMissingField)
	}
	cur.count = uint32(len(a) + len(b))
	if cur.count == 0 {
		p.stats.messages.Add(1) // nothing changed that the message names
		return nil
	}
	return p.entryLists(ctx, payload, [2]int{first, second}, [2][]span{a, b}, &cur.index, nil, ingest)
}

// batch returns the split message an entry belongs to.
func (f *filler) batch() *bnBatch {
	st, ok := f.p.state.(*bnState)
	if !ok { // a kind run outside a Binance parser's split (fuzzing)
		return &bnBatch{count: 1}
	}
	if st.cur.count == 0 { // an entry run on its own (fuzzing a kind)
		st.cur.count = 1
	}
	return &st.cur
}

// place stamps an entry with its batch: event time, index and count.
func (f *filler) place(b *bnBatch, index, count *uint32) {
	f.millis(&f.main, "E", b.event)
	*index, *count = b.index, b.count
	if *index >= *count {
		*index = *count - 1
	}
}

// asset sets a balance's asset, which must be sent (under the venue's
// key field) and not empty.
func (f *filler) asset(dst *schema.ID, field string, x ident) {
	if !x.ok || x.v.IsZero() {
		f.fail(field, ErrMissingField)
		return
	}
	*dst = x.v
}

// bnSpotBalanceMsg is an entry of outboundAccountPosition's "B".
type bnSpotBalanceMsg struct {
	A ident `json:"a"`
	F num   `json:"f"`
	L num   `json:"l"`
}

func (m *bnSpotBalanceMsg) fill(f *filler) {
	x, b := f.ev.UseBalance(), f.batch()
	f.need("f", m.F.ok)
	f.need("l", m.L.ok)
	f.asset(&x.Asset, "a", m.A)
	x.Kind = schema.BalanceSnapshot
	f.price(&x.Free, "f", m.F)
	f.price(&x.Locked, "l", m.L)
	f.millis(&x.UpdateTime, "u", b.update)
	f.place(b, &x.Index, &x.Count)
}

// bnFuturesBalanceMsg is an entry of ACCOUNT_UPDATE's "B".
type bnFuturesBalanceMsg struct {
	A  ident `json:"a"`
	WB num   `json:"wb"`
	CW num   `json:"cw"`
	BC num   `json:"bc"`
}

func (m *bnFuturesBalanceMsg) fill(f *filler) {
	x, b := f.ev.UseBalance(), f.batch()
	f.need("wb", m.WB.ok)
	f.asset(&x.Asset, "a", m.A)
	x.Kind, x.Reason = schema.BalanceWallet, b.reason
	f.decimal(&x.Wallet, m.WB)
	f.decimal(&x.CrossWallet, m.CW)
	f.decimal(&x.Delta, m.BC)
	f.millis(&x.UpdateTime, "T", b.update)
	f.place(b, &x.Index, &x.Count)
}

// bnPositionMsg is an entry of ACCOUNT_UPDATE's "P" or, with "mp" and
// "mm", of MARGIN_CALL's "p".
type bnPositionMsg struct {
	S   text `json:"s"`
	PA  num  `json:"pa"`
	EP  num  `json:"ep"`
	BEP num  `json:"bep"`
	CR  num  `json:"cr"`
	UP  num  `json:"up"`
	MT  text `json:"mt"`
	IW  num  `json:"iw"`
	PS  text `json:"ps"`
	MP  num  `json:"mp"`
	MM  num  `json:"mm"`
}

// Binance's position sides and margin types: ACCOUNT_UPDATE spells the
// margin type "cross"/"isolated", MARGIN_CALL "CROSSED"/"ISOLATED".
var (
	binancePositionSides = map[string]schema.PositionSide{
		"BOTH": schema.PositionBoth, "LONG": schema.PositionLong, "SHORT": schema.PositionShort,
	}
	binanceMarginTypes = map[string]schema.MarginType{
		"cross": schema.MarginCross, "crossed": schema.MarginCross, "CROSS": schema.MarginCross, "CROSSED": schema.MarginCross,
		"isolated": schema.MarginIsolated, "ISOLATED": schema.MarginIsolated,
	}
)

func (m *bnPositionMsg) fill(f *filler) {
	x, b := f.ev.UsePosition(), f.batch()
	f.need("pa", m.PA.ok)
	f.need("ps", m.PS.ok)
	f.need("s", m.S.ok)
	f.symbol("s", &m.S)
	known(f, &x.Side, "ps", binancePositionSides, &m.PS)
	x.MarginType = enum(binanceMarginTypes, &m.MT)
	f.decimal(&x.Amount, m.PA)
	if (x.Side == schema.PositionLong && x.Amount.Sign() < 0) || (x.Side == schema.PositionShort && x.Amount.Sign() > 0) {
		f.fail("pa", errSignDisagrees)
	}
	f.price(&x.EntryPrice, "ep", m.EP)
	f.price(&x.BreakEvenPrice, "bep", m.BEP)
	f.decimal(&x.RealizedPnL, m.CR)
	f.decimal(&x.UnrealizedPnL, m.UP)
	f.price(&x.IsolatedWallet, "iw", m.IW)
	f.price(&x.MarkPrice, "mp", m.MP)
	f.price(&x.MaintMargin, "mm", m.MM)
	x.Reason = b.reason
	f.millis(&x.UpdateTime, "T", b.update)
	f.place(b, &x.Index, &x.Count)
}

// bnMarginCallPositionMsg is an entry of MARGIN_CALL's "p".
type bnMarginCallPositionMsg struct{ bnPositionMsg }

func (m *bnMarginCallPositionMsg) fill(f *filler) {
	m.bnPositionMsg.fill(f)
	x := f.ev.UsePosition()
	x.MarginCall = true
	f.decimal(&x.CrossWallet, f.batch().crossWallet)
}

// bnBalanceDeltaMsg is a balanceUpdate or, as bnExternalLockMsg, an
// externalLockUpdate.
type bnBalanceDeltaMsg struct {
	E integer `json:"E"`
	A ident   `json:"a"`
	D num     `json:"d"`
	T integer `json:"T"`
}

func (m *bnBalanceDeltaMsg) fill(f *filler) { m.fillAs(f, schema.BalanceDelta) }

func (m *bnBalanceDeltaMsg) fillAs(f *filler, kind schema.BalanceKind) {
	x := f.ev.UseBalance()
	f.need("d", m.D.ok)
	f.asset(&x.Asset, "a", m.A)
	x.Kind, x.Count = kind, 1
	f.decimal(&x.Delta, m.D)
	f.millis(&f.main, "E", m.E)
	f.millis(&x.UpdateTime, "T", m.T)
	f.fallback = x.UpdateTime
}

type bnExternalLockMsg struct{ bnBalanceDeltaMsg }

func (m *bnExternalLockMsg) fill(f *filler) { m.fillAs(f, schema.BalanceLockDelta) }

// bnAccountConfigMsg is ACCOUNT_CONFIG_UPDATE: a symbol's leverage ("ac")
// or the account's multi-assets mode ("ai").
type bnAccountConfigMsg struct {
	E  integer `json:"E"`
	T  integer `json:"T"`
	AC struct {
		S text    `json:"s"`
		L integer `json:"l"`
	} `json:"ac"`
	AI struct {
		J flag `json:"j"`
	} `json:"ai"`
}

func (m *bnAccountConfigMsg) fill(f *filler) {
	c := f.ev.UseControl()
	f.millis(&f.main, "E", m.E)
	f.millis(&f.fallback, "T", m.T)
	switch {
	case m.AC.S.ok || m.AC.L.ok:
		f.need("l", m.AC.L.ok)
		f.need("s", m.AC.S.ok)
		f.symbol("s", &m.AC.S)
		if m.AC.L.v <= 0 {
			f.fail("l", wrapBad("leverage must be positive"))
		}
		c.Reason, c.Value = "leverage", m.AC.L.v
	case m.AI.J.ok:
		c.Reason = "multi_assets_mode"
		if m.AI.J.v {
			c.Value = 1
		}
	default:
		f.fail("ac", ErrMissingField)
	}
}

// errSignDisagrees: a position amount whose sign contradicts its side
// ("LONG" below 0, "SHORT" above).
var errSignDisagrees = wrapBad("sign disagrees with the position side")
