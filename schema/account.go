package schema

// Account updates: what a venue's private stream says about the account's
// balances and (for derivatives) positions. They are critical events: never
// dropped, never coalesced, delivered in the venue's order.
//
// One event per asset and one per position. A venue message that changes
// several (Binance spot outboundAccountPosition, USDⓈ-M ACCOUNT_UPDATE)
// becomes several events, published back to back in the venue's order;
// each carries its place in the message (Index of Count) and the message's
// Reason, UpdateTime and ExchangeTS, so that a host applying them to its
// own book of balances knows when it holds the whole change. One event per
// asset keeps the sections flat values: no slices to pool or to clone, a
// subscriber's filter by symbol works for positions, and a bridge's fixed
// layout carries them. The cost, a message of n entries taking n events
// from the pool, is paid only on account changes, which are rare next to
// market data.

// BalanceKind says what the amounts of a [Balance] are.
type BalanceKind uint8

// Balance kinds.
const (
	BalanceUnknown BalanceKind = iota
	// BalanceSnapshot: Free and Locked are the asset's amounts after the
	// change (Binance spot "Account Update", outboundAccountPosition).
	BalanceSnapshot
	// BalanceDelta: Delta was added to the asset's balance by a deposit,
	// a withdrawal or a transfer between accounts (Binance spot "Balance
	// Update", balanceUpdate). The amounts after it come in a snapshot.
	BalanceDelta
	// BalanceLockDelta: Delta of the asset was locked (positive) or
	// unlocked (negative) by a system outside the spot account, such as
	// margin collateral (Binance spot "External Lock Update",
	// externalLockUpdate).
	BalanceLockDelta
	// BalanceWallet: a derivatives account's margin asset: Wallet and
	// CrossWallet after the change, Delta the change except realized PnL
	// and commission (Binance USDⓈ-M "Balance and Position Update",
	// ACCOUNT_UPDATE).
	BalanceWallet
	numBalanceKinds
)

var balanceKindNames = [...]string{"unknown", "snapshot", "delta", "lock_delta", "wallet"}

func (k BalanceKind) String() string {
	if int(k) < len(balanceKindNames) {
		return balanceKindNames[k]
	}
	return "unknown"
}

// Balance is the section of an EventBalance: one asset of the account. All
// amounts are in units of Asset, exact as the venue sent them; fields the
// Kind does not name stay zero.
type Balance struct {
	Asset ID // the venue's asset code ("BTC", "USDT")
	Kind  BalanceKind
	// Free and Locked (BalanceSnapshot): available, and held by open
	// orders or the venue.
	Free, Locked Decimal
	// Delta (BalanceDelta, BalanceLockDelta, BalanceWallet): the signed
	// change.
	Delta Decimal
	// Wallet (BalanceWallet): the wallet balance (Binance "wb"), realized
	// PnL and fees included, unrealized PnL not; may be negative.
	Wallet Decimal
	// CrossWallet (BalanceWallet): the wallet balance less isolated
	// positions' margin (Binance "cw").
	CrossWallet Decimal
	// Reason is the venue's word for why the balance changed (Binance
	// USDⓈ-M "m": ORDER, FUNDING_FEE, DEPOSIT, WITHDRAW, ...); "" when the
	// venue gives none. Interned: a constant, never a slice of a frame.
	Reason string
	// UpdateTime is when the account changed, Unix ns (Binance spot "u",
	// the time of the last account update, or "T", the clear time of a
	// balanceUpdate; USDⓈ-M "T", the transaction time); 0 when not sent.
	UpdateTime int64
	// Index and Count place the event in the venue message that carried
	// it: the Index-th (from 0) of Count entries, balances first, then
	// positions. An entry the parser refused (a *normalize.ParseError)
	// leaves its Index out; the others still come.
	Index, Count uint32
}

// PositionSide is the side of a derivatives position.
type PositionSide uint8

// Position sides.
const (
	PositionSideUnknown PositionSide = iota
	// PositionBoth: the account is in one-way mode; the position's sign
	// says long (positive Amount) or short (negative).
	PositionBoth
	PositionLong  // hedge mode's long position (Amount ≥ 0)
	PositionShort // hedge mode's short position (Amount ≤ 0)
	numPositionSides
)

var positionSideNames = [...]string{"unknown", "both", "long", "short"}

func (s PositionSide) String() string {
	if int(s) < len(positionSideNames) {
		return positionSideNames[s]
	}
	return "unknown"
}

// MarginType is how a derivatives position is margined.
type MarginType uint8

// Margin types.
const (
	MarginTypeUnknown MarginType = iota
	MarginCross                  // margin shared by the account's cross positions
	MarginIsolated               // margin of its own (Position.IsolatedWallet)
	numMarginTypes
)

var marginTypeNames = [...]string{"unknown", "cross", "isolated"}

func (m MarginType) String() string {
	if int(m) < len(marginTypeNames) {
		return marginTypeNames[m]
	}
	return "unknown"
}

// Position is the section of an EventPosition: one derivatives position of
// the account after a change; the event's Symbol is the contract. Prices
// are in the contract's quote asset per unit; PnL and margins in its margin
// asset; fields the venue did not send stay zero.
type Position struct {
	Side       PositionSide
	MarginType MarginType
	// Amount is the position's size, signed in every mode (negative is
	// short, as Binance "pa" sends it; a parser of a venue that sends a
	// hedge-mode short as a positive size negates it): base asset for
	// USDⓈ-M contracts, contracts for COIN-M. Zero: closed.
	Amount         Decimal
	EntryPrice     Decimal // average entry price (Binance "ep")
	BreakEvenPrice Decimal // (Binance "bep")
	// RealizedPnL is the accumulated realized PnL, before fees (Binance
	// "cr"); signed.
	RealizedPnL    Decimal
	UnrealizedPnL  Decimal // signed (Binance "up")
	IsolatedWallet Decimal // isolated margin; zero for a cross position (Binance "iw")
	// MarkPrice, MaintMargin and CrossWallet are sent with a margin call
	// only (Binance MARGIN_CALL "mp", "mm" and "cw": the maintenance
	// margin required, and the account's cross wallet balance when the
	// position is crossed).
	MarkPrice   Decimal
	MaintMargin Decimal
	CrossWallet Decimal
	// MarginCall: the venue warns that the position's risk is too high
	// (Binance MARGIN_CALL); it may already be liquidated.
	MarginCall bool
	// Reason is the venue's word for the change (Binance "m": ORDER,
	// FUNDING_FEE, ...; "MARGIN_CALL" for a margin call). Interned.
	Reason string
	// UpdateTime is the venue's transaction time, Unix ns; 0 when not sent.
	UpdateTime int64
	// Index and Count: see [Balance].
	Index, Count uint32
}

func (b *Balance) validate() error {
	switch {
	case b.Asset.IsZero():
		return invalid("Balance", "Asset", "empty")
	case b.Kind == BalanceUnknown || b.Kind >= numBalanceKinds:
		return invalid("Balance", "Kind", "unknown")
	case b.Kind == BalanceSnapshot && (b.Free.Sign() < 0 || b.Locked.Sign() < 0):
		return invalid("Balance", "Free", "negative")
	case b.Count > 0 && b.Index >= b.Count:
		return invalid("Balance", "Index", "not below Count")
	}
	return nil
}

func (p *Position) validate() error {
	switch {
	case p.Side == PositionSideUnknown || p.Side >= numPositionSides:
		return invalid("Position", "Side", "unknown")
	case p.MarginType >= numMarginTypes:
		return invalid("Position", "MarginType", "unknown")
	case p.Side == PositionLong && p.Amount.Sign() < 0:
		return invalid("Position", "Amount", "negative on a long position")
	case p.Side == PositionShort && p.Amount.Sign() > 0:
		return invalid("Position", "Amount", "positive on a short position")
	case p.EntryPrice.Sign() < 0 || p.MarkPrice.Sign() < 0 || p.BreakEvenPrice.Sign() < 0:
		return invalid("Position", "EntryPrice", "negative")
	case p.Count > 0 && p.Index >= p.Count:
		return invalid("Position", "Index", "not below Count")
	}
	return nil
}
