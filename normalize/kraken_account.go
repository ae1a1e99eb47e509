package normalize

import "github.com/meltica/meltica/schema"

// krBalanceMsg is an element of Kraken's private "balances" channel
// (Kraken Spot WebSocket API v2, "User Data → Balances"; token required).
// Kraken gives an asset's total only, no free or held part: every element
// is a BalanceWallet whose Wallet is "balance", the asset's total over all
// its wallets (spot and earn).
//
//   - A "snapshot" element {"asset","asset_class","balance","wallets":[…]}
//     is an asset held; the elements of one snapshot are one message
//     (Index of Count).
//   - An "update" element is a ledger transaction {"ledger_id","ref_id",
//     "timestamp","type","asset","category","wallet_type","wallet_id",
//     "amount","fee","balance"}: Delta is amount, Wallet the balance after
//     it, Reason the transaction's type (deposit, withdrawal, trade,
//     margin, …), UpdateTime and ExchangeTS its timestamp.
type krBalanceMsg struct {
	Asset     ident `json:"asset"`
	Balance   num   `json:"balance"`
	Amount    num   `json:"amount"`
	Type      text  `json:"type"`
	Timestamp text  `json:"timestamp"`
	LedgerID  ident `json:"ledger_id"`
}

func (m *krBalanceMsg) fill(f *filler) {
	x := f.ev.UseBalance()
	f.symKey = "asset"
	f.asset(&x.Asset, "asset", m.Asset)
	f.need("balance", m.Balance.ok)
	x.Kind = schema.BalanceWallet
	f.decimal(&x.Wallet, m.Balance)
	if m.Amount.ok { // a ledger transaction
		f.decimal(&x.Delta, m.Amount)
		x.Reason = f.p.intern(m.Type.bytes())
		f.time(&x.UpdateTime, "timestamp", &m.Timestamp)
		f.main = x.UpdateTime
	}
	f.entry(&x.Index, &x.Count)
}

// KrakenSubscribeBalances returns the v2 subscribe request of the private
// "balances" channel with token (from [FetchKrakenWebSocketsToken]) and
// request id reqID; snapshot asks for the balances first (Kraken
// "Balances": default true). Its messages become schema.EventBalance
// events.
func KrakenSubscribeBalances(token string, reqID uint64, snapshot bool) ([]byte, error) {
	if err := checkKrakenToken(token); err != nil {
		return nil, err
	}
	type params struct {
		Channel  string `json:"channel"`
		Token    string `json:"token"`
		Snapshot bool   `json:"snapshot"`
	}
	return marshalRequest(&struct {
		Method string `json:"method"`
		Params params `json:"params"`
		ReqID  uint64 `json:"req_id"`
	}{"subscribe", params{"balances", token, snapshot}, reqID})
}
