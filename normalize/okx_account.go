package normalize

import (
	"context"

	"github.com/meltica/meltica/schema"
)

// OKX's account channels (OKX v5 API, "Trading Account → WebSocket";
// login required):
//
//   - "account" ("Account channel"): {"arg":{"channel":"account","uid"},
//     "data":[{"uTime","totalEq",…,"details":[{"ccy","availBal",
//     "frozenBal","cashBal","eq","uTime",…}]}]}, pushed on a change (and
//     as a snapshot on subscription and at regular intervals). Each
//     detail is a BalanceSnapshot of its currency: Free availBal, Locked
//     frozenBal, UpdateTime the detail's uTime; ExchangeTS the account's
//     uTime. The details of one data element are one message (Index of
//     Count).
//   - "positions" ("Positions channel"): {"arg":{"channel":"positions",
//     "instType"},"data":[{"instId","posSide","pos","mgnMode","avgPx",
//     "bePx","markPx","upl","realizedPnl","margin","mmr","uTime",
//     "pTime",…}]}: a position per element. posSide net is PositionBoth
//     (pos signed), long PositionLong, short PositionShort (OKX sends the
//     short's pos positive: Amount is negated); mgnMode cross or
//     isolated, whose "margin" is IsolatedWallet; mmr MaintMargin;
//     realizedPnl RealizedPnL; uTime UpdateTime, pTime (the push)
//     ExchangeTS. An empty data array (no positions) is no event.
//   - "balance_and_position" ("Balance and position channel"):
//     {"arg":{"channel":"balance_and_position","uid"},"data":[{"pTime",
//     "eventType","balData":[{"ccy","cashBal","uTime"}],"posData":[{
//     "posId","tradeId","instId","instType","mgnMode","posSide","pos",
//     "ccy","posCcy","avgPx","nonSettleAvgPx","settledPnl","uTime"}],
//     "trades":[{"instId","tradeId"}]}]}, pushed on the first
//     subscription (eventType snapshot: the currencies whose cash balance
//     is not 0 and the positions whose quantity is not 0) and on every
//     change of a cash balance or a position (eventType delivered,
//     exercised, transferred, filled, liquidation, claw_back, adl,
//     funding_fee, adjust_margin, set_leverage, interest_deduction,
//     settlement, …), with only what changed. The entries of one data
//     element are one message (Index of Count, balData first): each
//     balData entry a BalanceWallet whose Wallet is cashBal, each posData
//     entry a position read as the positions channel's (posSide, pos,
//     mgnMode, avgPx, uTime); Reason is eventType and ExchangeTS pTime.
//     An element with neither array is a *ParseError (ErrMissingField).

// okxAccountMsg is an element of the account channel's data: its time
// and its details.
type okxAccountMsg struct {
	UTime   optInteger `json:"uTime"`
	Details entries    `json:"details"`
}

// decodeOKXAccount decodes an element of an account push: its details
// are the entries, its uTime their ExchangeTS.
func decodeOKXAccount(p *Parser, elem []byte) (bool, error) {
	m := &p.acct.okx
	*m = okxAccountMsg{}
	m.Details.bind(&p.inner)
	if err := p.unmarshal(elem, m, wideOpts...); err != nil { // some 25 members, and growing: see wideSlot
		return false, err
	}
	if m.UTime.ok && (m.UTime.v < 0 || m.UTime.v > maxMillis) {
		return false, &fieldError{field: "uTime", err: errTime}
	}
	if m.UTime.ok {
		p.acct.ts = m.UTime.v * 1_000_000
	}
	return m.Details.seen, nil
}

// okxBalanceMsg is a detail of an account push.
type okxBalanceMsg struct {
	Ccy       ident      `json:"ccy"`
	AvailBal  optNum     `json:"availBal"`
	FrozenBal optNum     `json:"frozenBal"`
	UTime     optInteger `json:"uTime"`
}

func (m *okxBalanceMsg) fill(f *filler) {
	x := f.ev.UseBalance()
	f.symKey = "ccy"
	f.asset(&x.Asset, "ccy", m.Ccy)
	x.Kind = schema.BalanceSnapshot
	f.need("availBal", m.AvailBal.ok)
	f.price(&x.Free, "availBal", m.AvailBal.num)
	f.price(&x.Locked, "frozenBal", m.FrozenBal.num)
	f.millis(&x.UpdateTime, "uTime", m.UTime.integer)
	f.main = f.p.acct.ts
	f.fallback = x.UpdateTime
	f.entry(&x.Index, &x.Count)
}

// okxPositionMsg is an element of a positions push.
type okxPositionMsg struct {
	InstID      text       `json:"instId"`
	PosSide     text       `json:"posSide"`
	Pos         optNum     `json:"pos"`
	MgnMode     text       `json:"mgnMode"`
	AvgPx       optNum     `json:"avgPx"`
	BePx        optNum     `json:"bePx"`
	MarkPx      optNum     `json:"markPx"`
	Upl         optNum     `json:"upl"`
	RealizedPnl optNum     `json:"realizedPnl"`
	Margin      optNum     `json:"margin"`
	Mmr         optNum     `json:"mmr"`
	UTime       optInteger `json:"uTime"`
	PTime       optInteger `json:"pTime"`
}

var (
	okxPositionSides = map[string]schema.PositionSide{
		"net": schema.PositionBoth, "long": schema.PositionLong, "short": schema.PositionShort,
	}
	okxMarginModes = map[string]schema.MarginType{"cross": schema.MarginCross, "isolated": schema.MarginIsolated}
)

func (m *okxPositionMsg) fill(f *filler) {
	x := f.ev.UsePosition()
	f.need("instId", m.InstID.ok)
	f.need("pos", m.Pos.ok)
	f.need("posSide", m.PosSide.ok)
	f.symbol("instId", &m.InstID)
	known(f, &x.Side, "posSide", okxPositionSides, &m.PosSide)
	x.MarginType = enum(okxMarginModes, &m.MgnMode)
	f.decimal(&x.Amount, m.Pos.num)
	switch {
	case x.Side == schema.PositionShort && x.Amount.Sign() > 0:
		x.Amount = x.Amount.Neg() // OKX: a short's pos is positive
	case x.Side == schema.PositionLong && x.Amount.Sign() < 0:
		f.fail("pos", wrapBad("negative on a long position"))
	}
	f.price(&x.EntryPrice, "avgPx", m.AvgPx.num)
	f.price(&x.BreakEvenPrice, "bePx", m.BePx.num)
	f.price(&x.MarkPrice, "markPx", m.MarkPx.num)
	f.decimal(&x.UnrealizedPnL, m.Upl.num)
	f.decimal(&x.RealizedPnL, m.RealizedPnl.num)
	if x.MarginType == schema.MarginIsolated {
		f.price(&x.IsolatedWallet, "margin", m.Margin.num)
	}
	f.price(&x.MaintMargin, "mmr", m.Mmr.num)
	f.millis(&x.UpdateTime, "uTime", m.UTime.integer)
	f.millis(&f.main, "pTime", m.PTime.integer)
	if !m.PTime.ok { // balance_and_position: the push's pTime and eventType
		f.main = f.p.acct.ts
	}
	x.Reason = f.p.acct.reason
	f.fallback = x.UpdateTime
	f.entry(&x.Index, &x.Count)
}

// OKXSubscribeAccount returns the subscribe request of the private
// "account" channel (every currency), to be sent after the login's ack.
// Its pushes become schema.EventBalance events.
func OKXSubscribeAccount() ([]byte, error) { return okxSubscribePrivate("account", "") }

// OKXSubscribePositions returns the subscribe request of the private
// "positions" channel for instType (MARGIN, SWAP, FUTURES, OPTION or
// ANY). Its pushes become schema.EventPosition events.
func OKXSubscribePositions(instType string) ([]byte, error) {
	return okxSubscribePrivate("positions", instType)
}

// OKXSubscribeBalanceAndPosition returns the subscribe request of the
// private "balance_and_position" channel, to be sent after the login's
// ack. Its pushes become schema.EventBalance and schema.EventPosition
// events, one message per data element (see okx_account.go's header).
func OKXSubscribeBalanceAndPosition() ([]byte, error) { return okxSubscribePrivate(okxBalPos, "") }

// okxBalPos is the channel of balance and position changes.
const okxBalPos = "balance_and_position"

// okxBalPosMsg is an element of a balance_and_position push.
type okxBalPosMsg struct {
	PTime     optInteger `json:"pTime"`
	EventType text       `json:"eventType"`
	BalData   entries    `json:"balData"`
	PosData   entries    `json:"posData"`
}

// okxBalancesAndPositions publishes the balData and posData entries of
// each element of a balance_and_position push as one message per
// element: an entry that fails is dropped with its *ParseError, the
// others still come.
func (p *Parser) okxBalancesAndPositions(ctx context.Context, data []byte, ingest int64) error {
	b := &p.acct
	var first error
	for _, el := range p.elems {
		elem := el.of(data)
		m := &b.okxBalPos
		*m = okxBalPosMsg{}
		m.BalData.bind(&p.inner)
		m.PosData.bind(&b.second)
		err := p.unmarshal(elem, m)
		switch {
		case err != nil:
			err = p.badDecode(okxBalPos, err)
		case !m.BalData.seen && !m.PosData.seen:
			err = p.bad(okxBalPos, "balData", ErrMissingField)
		case len(p.inner)+len(b.second) == 0:
			p.stats.messages.Add(1) // nothing changed that the element names
		default:
			err = p.okxBalPosEntries(ctx, elem, m, ingest)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// okxBalPosEntries publishes the entries of one element.
func (p *Parser) okxBalPosEntries(ctx context.Context, elem []byte, m *okxBalPosMsg, ingest int64) error {
	b := &p.acct
	b.index, b.count = 0, uint32(len(p.inner)+len(b.second))
	b.reason = p.intern(m.EventType.bytes())
	if m.PTime.ok && (m.PTime.v < 0 || m.PTime.v > maxMillis) {
		b.reason = ""
		return p.bad(okxBalPos, "pTime", errTime) // never delivered with ExchangeTS 0
	}
	if m.PTime.ok {
		b.ts = m.PTime.v * 1_000_000
	}
	err := p.entryLists(ctx, elem, [2]int{oxBalPosBalance, oxBalPosPosition}, [2][]span{p.inner, b.second}, &b.index, nil, ingest)
	b.index, b.count, b.reason, b.ts = 0, 0, "", 0
	return err
}

// okxCashMsg is a balData entry of balance_and_position: a currency's
// cash balance.
type okxCashMsg struct {
	Ccy     ident      `json:"ccy"`
	CashBal optNum     `json:"cashBal"`
	UTime   optInteger `json:"uTime"`
}

func (m *okxCashMsg) fill(f *filler) {
	x := f.ev.UseBalance()
	f.symKey = "ccy"
	f.asset(&x.Asset, "ccy", m.Ccy)
	f.need("cashBal", m.CashBal.ok)
	x.Kind, x.Reason = schema.BalanceWallet, f.p.acct.reason
	f.decimal(&x.Wallet, m.CashBal.num)
	f.millis(&x.UpdateTime, "uTime", m.UTime.integer)
	f.main = f.p.acct.ts
	f.fallback = x.UpdateTime
	f.entry(&x.Index, &x.Count)
}
