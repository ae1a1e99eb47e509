package normalize

// USDⓈ-M and COIN-M market streams beyond trades, books, tickers, mark
// prices and liquidations.
//
// Known and skipped on purpose (counted in Stats.Ignored, never as
// unknown, so a host's "unknown message" alarm means a real surprise):
//
//   - compositeIndex (USDⓈ-M "Composite Index Symbol Information Streams",
//     <symbol>@compositeIndex): an index symbol's price "p" and its
//     composition "c". As an EventMarkPrice with only IndexPrice it would
//     share the symbol's latest-wins slot with its markPriceUpdate (the
//     index symbols, DEFIUSDT and the like, are contracts with a mark
//     price too) and replace a mark price with zero; the composition has
//     no place in the schema.
//   - assetIndexUpdate (USDⓈ-M "Multi-Assets Mode Asset Index",
//     <assetSymbol>@assetIndex, !assetIndex@arr): the index price and
//     bid/ask haircuts of a collateral asset pair ("ADAUSD"), no
//     instrument: the schema has no collateral-rate section.

// bnContractInfoMsg is a contractInfo event (USDⓈ-M and COIN-M "Contract
// Info Stream", !contractInfo: pushed on a listing, a settlement or a
// bracket update, real time): a [schema.ControlStatus] event of the
// contract "s" with Control.Reason the contract status "cs" (PENDING_TRADING,
// TRADING, PRE_DELIVERING, DELIVERING, DELIVERED, PRE_SETTLE, SETTLING,
// CLOSE; another word is copied as sent) and ExchangeTS the event time
// "E". A bracket update ("bks": "only shows up when bracket gets
// updated") repeats the unchanged status: a status is delivered when it
// differs from the contract's last delivered (or none was), and a repeat
// is counted in [Stats].Repeats, not delivered — the critical lane
// carries status changes only. Delivery and onboard dates and brackets
// have no place in the schema.
type bnContractInfoMsg struct {
	S  text    `json:"s"`
	CS text    `json:"cs"`
	E  integer `json:"E"`
}

var binanceContractStatuses = internTable("PENDING_TRADING", "TRADING", "PRE_DELIVERING", "DELIVERING",
	"DELIVERED", "PRE_SETTLE", "SETTLING", "CLOSE")

func (m *bnContractInfoMsg) fill(f *filler) {
	f.need("s", m.S.ok)
	f.need("cs", m.CS.ok && len(m.CS.bytes()) > 0) // a status event that names no status says nothing
	f.symbol("s", &m.S)
	f.millis(&f.main, "E", m.E)
	st, ok := f.p.state.(*bnState)
	ok = ok && f.err == nil
	sym := f.ev.Symbol
	if ok {
		if was, known := st.contracts[sym]; known && was == string(m.CS.bytes()) {
			f.repeat = true
			return
		}
	}
	status := internOrCopy(binanceContractStatuses, &m.CS)
	f.ev.UseControl().Reason = status
	if !ok {
		return
	}
	st.contractMemo.hold(f, &st.contracts, sym, status) // remembered once the event is accepted
}
