package normalize

import "github.com/meltica/meltica/schema"

// Bybit's account topics (Bybit v5, "WebSocket Stream → Private"):
//
//   - "wallet" ("Wallet"): {"id","topic":"wallet","creationTime","data":
//     [{"accountType",…,"coin":[{"coin","walletBalance","free","locked",
//     "equity","unrealisedPnl","cumRealisedPnl",…}]}]}. Each coin of an
//     account is an entry of one message (Index of Count), Reason the
//     accountType (UNIFIED, CONTRACT, SPOT). A normal SPOT account's coin
//     sends free and locked: a BalanceSnapshot. The others (UNIFIED,
//     CONTRACT) send no free amount: a BalanceWallet whose Wallet is
//     walletBalance (negative when borrowed) and Locked the spot orders'
//     hold when sent. ExchangeTS is creationTime.
//   - "position" ("Position"; position.linear, .inverse, .option): a
//     position per element of data. positionIdx 0 (one-way mode) is
//     PositionBoth, its size signed by side (Sell negative); 1 and 2
//     (hedge mode's Buy and Sell sides) PositionLong and PositionShort, the
//     short's size negated. tradeMode 0 is cross, 1 isolated (whose
//     positionBalance is IsolatedWallet); entryPrice, breakEvenPrice,
//     markPrice, unrealisedPnl, cumRealisedPnl (RealizedPnL), positionMM
//     (MaintMargin); updatedTime UpdateTime; seq SeqProvider.

// bybitWalletMsg is an element of the wallet topic's data: an account and
// its coins.
type bybitWalletMsg struct {
	AccountType text    `json:"accountType"`
	Coin        entries `json:"coin"`
}

// decodeBybitWallet decodes an element of a wallet push: its coins are
// the entries, its accountType their Reason.
func decodeBybitWallet(p *Parser, elem []byte) (bool, error) {
	m := &p.acct.bybit
	*m = bybitWalletMsg{}
	m.Coin.bind(&p.inner)
	if err := p.unmarshal(elem, m); err != nil {
		return false, err
	}
	p.acct.reason = p.intern(m.AccountType.bytes())
	return m.Coin.seen, nil
}

// bybitCoinMsg is a coin of a wallet push.
type bybitCoinMsg struct {
	Coin          ident  `json:"coin"`
	WalletBalance optNum `json:"walletBalance"`
	Free          optNum `json:"free"`
	Locked        optNum `json:"locked"`
}

func (m *bybitCoinMsg) fill(f *filler) {
	x := f.ev.UseBalance()
	f.symKey = "coin"
	f.asset(&x.Asset, "coin", m.Coin)
	x.Reason = f.p.acct.reason
	if m.Free.ok { // a normal SPOT account
		x.Kind = schema.BalanceSnapshot
		f.price(&x.Free, "free", m.Free.num)
	} else {
		x.Kind = schema.BalanceWallet
		f.need("walletBalance", m.WalletBalance.ok)
		f.decimal(&x.Wallet, m.WalletBalance.num)
	}
	f.price(&x.Locked, "locked", m.Locked.num)
	f.entry(&x.Index, &x.Count)
}

// bybitPositionMsg is an element of a position push.
type bybitPositionMsg struct {
	Symbol          text       `json:"symbol"`
	Side            text       `json:"side"`
	Size            optNum     `json:"size"`
	PositionIdx     integer    `json:"positionIdx"`
	TradeMode       integer    `json:"tradeMode"`
	EntryPrice      optNum     `json:"entryPrice"`
	BreakEvenPrice  optNum     `json:"breakEvenPrice"`
	MarkPrice       optNum     `json:"markPrice"`
	PositionBalance optNum     `json:"positionBalance"`
	PositionMM      optNum     `json:"positionMM"`
	UnrealisedPnl   optNum     `json:"unrealisedPnl"`
	CumRealisedPnl  optNum     `json:"cumRealisedPnl"`
	UpdatedTime     optInteger `json:"updatedTime"`
	Seq             integer    `json:"seq"`
}

func (m *bybitPositionMsg) fill(f *filler) {
	x := f.ev.UsePosition()
	f.need("symbol", m.Symbol.ok)
	f.need("size", m.Size.ok)
	f.symbol("symbol", &m.Symbol)
	f.bybitPositionIdx(&x.Side, m.PositionIdx)
	f.price(&x.Amount, "size", m.Size.num)
	if x.Side == schema.PositionShort || (x.Side == schema.PositionBoth && string(m.Side.bytes()) == "Sell") {
		x.Amount = x.Amount.Neg()
	}
	if m.TradeMode.v == 1 {
		x.MarginType = schema.MarginIsolated
		f.price(&x.IsolatedWallet, "positionBalance", m.PositionBalance.num)
	} else {
		x.MarginType = schema.MarginCross
	}
	f.price(&x.EntryPrice, "entryPrice", m.EntryPrice.num)
	f.price(&x.BreakEvenPrice, "breakEvenPrice", m.BreakEvenPrice.num)
	f.price(&x.MarkPrice, "markPrice", m.MarkPrice.num)
	f.price(&x.MaintMargin, "positionMM", m.PositionMM.num)
	f.decimal(&x.UnrealizedPnL, m.UnrealisedPnl.num)
	f.decimal(&x.RealizedPnL, m.CumRealisedPnl.num)
	f.millis(&x.UpdateTime, "updatedTime", m.UpdatedTime.integer) // ExchangeTS: the push's creationTime
	if m.Seq.v > 0 {
		f.seq(&f.ev.SeqProvider, m.Seq)
	}
	f.entry(&x.Index, &x.Count)
}

// bybitPositionIdx sets the position side Bybit's positionIdx names
// (Bybit v5 "Enums → positionIdx"): 0 one-way mode (PositionBoth), 1 the
// Buy side and 2 the Sell side of hedge mode (PositionLong,
// PositionShort); another number is a *ParseError.
func (f *filler) bybitPositionIdx(dst *schema.PositionSide, idx integer) {
	switch idx.v {
	case 0:
		*dst = schema.PositionBoth
	case 1:
		*dst = schema.PositionLong
	case 2:
		*dst = schema.PositionShort
	default:
		f.fail("positionIdx", errWord)
	}
}
