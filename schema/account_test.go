package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func TestAccountEnumStrings(t *testing.T) {
	t.Parallel()
	for k, s := range map[schema.BalanceKind]string{schema.BalanceSnapshot: "snapshot", schema.BalanceDelta: "delta",
		schema.BalanceLockDelta: "lock_delta", schema.BalanceWallet: "wallet", 0: "unknown", 99: "unknown"} {
		assert.Equal(t, s, k.String())
	}
	for p, s := range map[schema.PositionSide]string{schema.PositionBoth: "both", schema.PositionLong: "long",
		schema.PositionShort: "short", 0: "unknown", 99: "unknown"} {
		assert.Equal(t, s, p.String())
	}
	for m, s := range map[schema.MarginType]string{schema.MarginCross: "cross", schema.MarginIsolated: "isolated", 0: "unknown", 99: "unknown"} {
		assert.Equal(t, s, m.String())
	}
	assert.Equal(t, "account_config", schema.ControlAccountConfig.String())
	assert.Equal(t, "balance", schema.EventBalance.String())
	assert.Equal(t, "position", schema.EventPosition.String())
}

// TestValidateAccount: a balance names its asset and kind, a snapshot is
// not negative; a position names its contract and side and its sign agrees
// with the side; Index stays below Count.
func TestValidateAccount(t *testing.T) {
	t.Parallel()
	d := schema.MustParseDecimal
	balance := func(mut func(b *schema.Balance)) *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventBalance}
		ev.Balance = &schema.Balance{Asset: schema.MustID("BTC"), Kind: schema.BalanceSnapshot, Free: d("1.5"), Locked: d("0"), Count: 2, Index: 1}
		if mut != nil {
			mut(ev.UseBalance())
		}
		return ev
	}
	position := func(mut func(ev *schema.CanonicalEvent)) *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventPosition, Symbol: "BTC-USDT"}
		ev.Position = &schema.Position{Side: schema.PositionBoth, MarginType: schema.MarginCross, Amount: d("-0.010"), EntryPrice: d("375.74")}
		if mut != nil {
			mut(ev)
		}
		return ev
	}
	require.NoError(t, balance(nil).Validate())
	require.NoError(t, balance(func(b *schema.Balance) { b.Kind, b.Free, b.Delta = schema.BalanceDelta, schema.Decimal{}, d("-100") }).Validate())
	require.NoError(t, balance(func(b *schema.Balance) { b.Kind, b.Wallet = schema.BalanceWallet, d("-3.2") }).Validate(), "a wallet may be negative")
	require.NoError(t, position(nil).Validate())
	require.NoError(t, position(func(ev *schema.CanonicalEvent) { ev.Position.Side, ev.Position.Amount = schema.PositionShort, d("-1") }).Validate())
	for name, ev := range map[string]*schema.CanonicalEvent{
		"Asset":          balance(func(b *schema.Balance) { b.Asset = schema.ID{} }),
		"Kind":           balance(func(b *schema.Balance) { b.Kind = 0 }),
		"Kind range":     balance(func(b *schema.Balance) { b.Kind = 77 }),
		"Free":           balance(func(b *schema.Balance) { b.Free = d("-1") }),
		"Index":          balance(func(b *schema.Balance) { b.Index = 2 }),
		"Symbol":         position(func(ev *schema.CanonicalEvent) { ev.Symbol = "" }),
		"Side":           position(func(ev *schema.CanonicalEvent) { ev.Position.Side = 0 }),
		"MarginType":     position(func(ev *schema.CanonicalEvent) { ev.Position.MarginType = 9 }),
		"long negative":  position(func(ev *schema.CanonicalEvent) { ev.Position.Side = schema.PositionLong }),
		"short positive": position(func(ev *schema.CanonicalEvent) { ev.Position.Side, ev.Position.Amount = schema.PositionShort, d("2") }),
		"EntryPrice":     position(func(ev *schema.CanonicalEvent) { ev.Position.EntryPrice = d("-1") }),
		"position Index": position(func(ev *schema.CanonicalEvent) { ev.Position.Index, ev.Position.Count = 3, 3 }),
	} {
		var ve *schema.ValidationError
		require.ErrorAs(t, ev.Validate(), &ve, name)
	}
}
