package normalize

import "github.com/meltica/meltica/schema"

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
	if m.UTime.ok && m.UTime.v >= 0 && m.UTime.v <= maxMillis {
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
	x := &f.ev.Balance
	f.symKey = "ccy"
	if !m.Ccy.ok || m.Ccy.v.IsZero() {
		f.fail("ccy", ErrMissingField)
	}
	x.Asset = m.Ccy.v
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
	x := &f.ev.Position
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
