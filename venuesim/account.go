package venuesim

import (
	"errors"

	"github.com/goccy/go-json/jsontext"
)

// The simulated account: a free and a locked amount (1e-8 units) of every
// asset of Options.Symbols, each starting with Options.Balance units free,
// moved as Binance spot moves them and told to the user-data stream as
// Binance tells it (Binance "User Data Streams for Binance"):
//
//   - an order that rests locks what it may spend (a buy its price ×
//     quantity of the quote asset, a sell its quantity of the base asset);
//   - a fill spends and receives: a buy receives the base asset less the
//     fee (the executionReport's fee, in the base asset) and pays price ×
//     quantity of the quote asset, from its lock when it rested; a sell
//     gives the base asset and the fee and receives the quote asset;
//   - a cancel releases what the order still locked;
//   - [Venue.Deposit] adds (or, negative, withdraws) an amount.
//
// Each change sends, after the order's executionReport, an
// outboundAccountPosition with the order's base and quote assets as they
// now are (a deposit's balanceUpdate comes first, then its
// outboundAccountPosition), on the connection that receives the order's
// reports; a deposit's on every connection subscribed to the user-data
// stream. The account is guarded by the market's lock, which every order
// operation holds.
type account struct {
	free, locked map[string]int64
}

func newAccount(m *market, balance int64) *account {
	a := &account{free: map[string]int64{}, locked: map[string]int64{}}
	for _, s := range m.symbols {
		a.free[s.base], a.free[s.quote] = balance*one, balance*one
	}
	return a
}

// lock holds what a resting order may spend: its quantity left (a part
// taken at once is spent already).
func (a *account) lock(o *order) {
	left := o.qty - o.filled
	asset, amt := o.symbol.quote, mulDec(o.price, left)
	if o.side == "SELL" {
		asset, amt = o.symbol.base, left
	}
	o.lockAsset, o.lockLeft = asset, amt
	a.free[asset] -= amt
	a.locked[asset] += amt
}

// release frees amt of what o locked (all of it when amt < 0 or more than
// is left) and returns how much it freed.
func (a *account) release(o *order, amt int64) int64 {
	if amt < 0 || amt > o.lockLeft {
		amt = o.lockLeft
	}
	o.lockLeft -= amt
	a.locked[o.lockAsset] -= amt
	a.free[o.lockAsset] += amt
	return amt
}

// fill moves the assets of a fill of qty at px with fee (base asset).
func (a *account) fill(o *order, px, qty, fee int64) {
	s := o.symbol
	quote := mulDec(px, qty)
	if o.lockAsset != "" { // a resting order: spend from its lock
		spend := quote
		if o.side == "SELL" {
			spend = qty
		}
		if o.filled >= o.qty {
			spend = -1 // the last fill frees the rest (rounding included)
		}
		a.release(o, spend)
	}
	if o.side == "BUY" {
		a.free[s.base] += qty - fee
		a.free[s.quote] -= quote
		return
	}
	a.free[s.base] -= qty + fee
	a.free[s.quote] += quote
}

// accountEvent is an outboundAccountPosition or a balanceUpdate, wrapped as
// the WS-API's user-data subscription sends it; the field order is
// Binance's.
type accountWrapper struct {
	SubscriptionID int `json:"subscriptionId"`
	Event          any `json:"event"`
}

type accountPosition struct {
	Event      string         `json:"e"`
	EventTime  int64          `json:"E"`
	LastUpdate int64          `json:"u"`
	Balances   []balanceEntry `json:"B"`
}

type balanceEntry struct {
	Asset  string         `json:"a"`
	Free   jsontext.Value `json:"f"`
	Locked jsontext.Value `json:"l"`
}

type balanceUpdate struct {
	Event     string         `json:"e"`
	EventTime int64          `json:"E"`
	Asset     string         `json:"a"`
	Delta     jsontext.Value `json:"d"`
	ClearTime int64          `json:"T"`
}

// accountChanged sends the outboundAccountPosition of assets on every
// user-data subscription of the account, c's first (Binance sends an
// account's events to each of its subscriptions, one a connection:
// WebSocket API "User Data Stream requests", as execReportIDs sends the
// reports). Caller holds the market lock.
func (c *conn) accountChanged(now int64, assets ...string) {
	c.sendAccount(now, assets...)
	for _, x := range c.v.userConns() {
		if x != c {
			x.sendAccount(now, assets...)
		}
	}
}

// sendAccount sends the outboundAccountPosition of assets on c's user-data
// subscription, if it has one (caller holds the market lock).
func (c *conn) sendAccount(now int64, assets ...string) {
	sub := c.userSubID()
	if sub < 0 {
		return
	}
	a := c.v.acct
	ev := accountPosition{Event: "outboundAccountPosition", EventTime: now, LastUpdate: now}
	for _, asset := range assets {
		ev.Balances = append(ev.Balances, balanceEntry{Asset: asset, Free: decValue(a.free[asset]), Locked: decValue(a.locked[asset])})
	}
	c.v.accountEvents.Add(1)
	c.reply(marshal(&accountWrapper{SubscriptionID: sub, Event: &ev}))
}

func (c *conn) userSubID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userSub
}

// ErrUnknownAsset: Deposit was given an asset the venue does not hold.
var ErrUnknownAsset = errors.New("venuesim: unknown asset")

// ErrBadAmount: Deposit was given an amount that is not a decimal with at
// most eight decimals.
var ErrBadAmount = errors.New("venuesim: bad amount")

// Deposit adds amount (a decimal, "-" for a withdrawal) of asset to the
// account, as a deposit, a withdrawal or a transfer from another account
// would, and tells every connection subscribed to the user-data stream: a
// balanceUpdate, then an outboundAccountPosition of the asset (Binance
// "User Data Streams for Binance": "Balance Update").
func (v *Venue) Deposit(asset, amount string) error {
	neg := len(amount) > 0 && amount[0] == '-'
	if neg {
		amount = amount[1:]
	}
	amt, ok := parseAmount(amount)
	if !ok {
		return ErrBadAmount
	}
	if neg {
		amt = -amt
	}
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := v.acct.free[asset]; !ok {
		return ErrUnknownAsset
	}
	v.acct.free[asset] += amt
	now := v.now().UnixMilli()
	for _, c := range v.userConns() {
		sub := c.userSubID()
		if sub < 0 {
			continue
		}
		c.v.accountEvents.Add(1)
		c.reply(marshal(&accountWrapper{SubscriptionID: sub, Event: &balanceUpdate{
			Event: "balanceUpdate", EventTime: now, Asset: asset, Delta: decValue(amt), ClearTime: now,
		}}))
		c.sendAccount(now, asset)
	}
	return nil
}

// userConns returns the open WS-API connections subscribed to the
// user-data stream.
func (v *Venue) userConns() []*conn {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []*conn
	for c := range v.conns {
		if c.api && c.ctx.Err() == nil && c.userSubscribed() {
			out = append(out, c)
		}
	}
	return out
}

// Balance returns the account's free and locked amounts of asset, as
// decimals with eight decimals ("0.00000000" for an asset it does not
// hold).
func (v *Venue) Balance(asset string) (free, locked string) {
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	return string(fmtDec(nil, v.acct.free[asset])), string(fmtDec(nil, v.acct.locked[asset]))
}
