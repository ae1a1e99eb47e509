package normalize

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestBinanceOutboundAccountPosition: spot "Account Update" is a
// BalanceSnapshot per asset, Index of Count, not "unknown" (Binance "User
// Data Streams for Binance").
func TestBinanceOutboundAccountPosition(t *testing.T) {
	t.Parallel()
	evs := handle(t, "outboundAccountPosition")
	require.Len(t, evs, 2)
	for i, want := range []struct{ asset, free, locked string }{{"ETH", "10000.000000", "0.000000"}, {"BTC", "0.50000000", "0.25000000"}} {
		ev := evs[i]
		require.Equal(t, schema.EventBalance, ev.Type)
		require.Empty(t, ev.Symbol)
		require.Equal(t, int64(1564034571105)*ms, ev.ExchangeTS)
		b := ev.Balance
		require.Equal(t, want.asset, b.Asset.String())
		require.Equal(t, schema.BalanceSnapshot, b.Kind)
		requireDigits(t, want.free, b.Free)
		requireDigits(t, want.locked, b.Locked)
		require.True(t, b.Delta.IsZero() && b.Wallet.IsZero())
		require.Equal(t, int64(1564034571073)*ms, b.UpdateTime)
		require.Equal(t, uint32(i), b.Index)
		require.Equal(t, uint32(2), b.Count)
	}
}

func TestBinanceBalanceDeltas(t *testing.T) {
	t.Parallel()
	ev := handle(t, "balanceUpdate")[0]
	require.Equal(t, schema.EventBalance, ev.Type)
	b := ev.Balance
	require.Equal(t, "BTC", b.Asset.String())
	require.Equal(t, schema.BalanceDelta, b.Kind)
	requireDigits(t, "-100.00000000", b.Delta, "a withdrawal is negative")
	require.Equal(t, int64(1573200697110)*ms, ev.ExchangeTS)
	require.Equal(t, int64(1573200697068)*ms, b.UpdateTime, "T: clear time")
	require.Equal(t, uint32(1), b.Count)

	ev = handle(t, "externalLockUpdate_wrapped")[0]
	require.Equal(t, schema.BalanceLockDelta, ev.Balance.Kind)
	require.Equal(t, "NEO", ev.Balance.Asset.String())
	requireDigits(t, "10.00000000", ev.Balance.Delta)
	require.Equal(t, int64(1581557507268)*ms, ev.Balance.UpdateTime)
}

// TestBinanceAccountUpdate: USDⓈ-M ACCOUNT_UPDATE becomes its balances then
// its positions, sharing the reason, the transaction time and one count
// (Binance USDⓈ-M "Event: Balance and Position Update").
func TestBinanceAccountUpdate(t *testing.T) {
	t.Parallel()
	evs := handle(t, "account_update")
	require.Len(t, evs, 3)
	for i, ev := range evs {
		require.Equal(t, int64(1564745798939)*ms, ev.ExchangeTS)
		if i < 2 {
			require.Equal(t, schema.EventBalance, ev.Type)
			require.Equal(t, "FUNDING_FEE", ev.Balance.Reason)
			require.Equal(t, int64(1564745798938)*ms, ev.Balance.UpdateTime)
			require.Equal(t, [2]uint32{uint32(i), 3}, [2]uint32{ev.Balance.Index, ev.Balance.Count})
		}
	}
	b := evs[1].Balance
	require.Equal(t, "BUSD", b.Asset.String())
	require.Equal(t, schema.BalanceWallet, b.Kind)
	requireDigits(t, "1.00000000", b.Wallet)
	requireDigits(t, "0.00000000", b.CrossWallet)
	requireDigits(t, "-49.12345678", b.Delta)
	ev := evs[2]
	require.Equal(t, schema.EventPosition, ev.Type)
	require.Equal(t, "BTC-USDT", ev.Symbol)
	x := ev.Position
	require.Equal(t, schema.PositionBoth, x.Side)
	require.Equal(t, schema.MarginCross, x.MarginType)
	requireDigits(t, "-0.010", x.Amount)
	requireDigits(t, "375.74000", x.EntryPrice)
	requireDigits(t, "375.8", x.BreakEvenPrice)
	requireDigits(t, "-0.19160000", x.RealizedPnL)
	requireDigits(t, "0.00149", x.UnrealizedPnL)
	require.False(t, x.MarginCall)
	require.Equal(t, "FUNDING_FEE", x.Reason)
	require.Equal(t, [2]uint32{2, 3}, [2]uint32{x.Index, x.Count})
}

// TestBinanceMarginCall: each position of a MARGIN_CALL is a position event
// with MarginCall, the mark price, the maintenance margin and the cross
// wallet balance (Binance USDⓈ-M "Event: Margin Call"), here inside a
// combined stream.
func TestBinanceMarginCall(t *testing.T) {
	t.Parallel()
	evs := handle(t, "margin_call_combined")
	require.Len(t, evs, 2)
	long, short := evs[0], evs[1]
	require.Equal(t, "ETH-USDT", long.Symbol)
	require.Equal(t, int64(1587727187525)*ms, long.ExchangeTS)
	x := long.Position
	require.True(t, x.MarginCall)
	require.Equal(t, "MARGIN_CALL", x.Reason)
	require.Equal(t, schema.PositionLong, x.Side)
	require.Equal(t, schema.MarginCross, x.MarginType)
	requireDigits(t, "1.327", x.Amount)
	requireDigits(t, "187.17127", x.MarkPrice)
	requireDigits(t, "-1.166074", x.UnrealizedPnL)
	requireDigits(t, "1.614445", x.MaintMargin)
	requireDigits(t, "3.16812045", x.CrossWallet)
	require.Equal(t, [2]uint32{0, 2}, [2]uint32{x.Index, x.Count})
	require.Equal(t, schema.PositionShort, short.Position.Side)
	require.Equal(t, schema.MarginIsolated, short.Position.MarginType)
	requireDigits(t, "12.5", short.Position.IsolatedWallet)
	require.Equal(t, uint32(1), short.Position.Index)
}

// TestBinanceAccountConfig: ACCOUNT_CONFIG_UPDATE is a typed control event,
// a symbol's leverage or the account's multi-assets mode.
func TestBinanceAccountConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		msg, symbol, reason string
		value               int64
	}{
		{`{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ac":{"s":"BTCUSDT","l":25}}`, "BTC-USDT", "leverage", 25},
		{`{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ai":{"j":true}}`, "", "multi_assets_mode", 1},
		{`{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ai":{"j":false}}`, "", "multi_assets_mode", 0},
	} {
		p, sink, _ := newRecParser(t, nil)
		require.NoError(t, p.HandleBytes(context.Background(), []byte(tt.msg), 1))
		require.Len(t, sink.got, 1)
		ev := sink.got[0]
		require.NoError(t, ev.Validate())
		require.Equal(t, schema.EventControl, ev.Type)
		require.Equal(t, schema.ControlAccountConfig, ev.Control.Kind)
		require.Equal(t, tt.symbol, ev.Symbol)
		require.Equal(t, tt.reason, ev.Control.Reason)
		require.Equal(t, tt.value, ev.Control.Value)
		require.Equal(t, int64(1611646737479)*ms, ev.ExchangeTS)
		require.Equal(t, uint64(1), p.Stats().Control)
	}
}

// TestBinanceAccountFaults: a malformed user-data message (account update,
// conditional order, order update) or entry is a *ParseError naming the
// field, never a panic; the other entries of the message are still
// published, and nothing is counted as unknown.
func TestBinanceAccountFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, msg, field string
		published        int
	}{
		{"outbound without B", `{"e":"outboundAccountPosition","E":1,"u":1}`, "B", 0},
		{"outbound B not an array", `{"e":"outboundAccountPosition","E":1,"u":1,"B":{"a":"ETH","f":"1","l":"0"}}`, "B", 0},
		{"outbound without E", `{"e":"outboundAccountPosition","u":1,"B":[{"a":"ETH","f":"1","l":"0"}]}`, "E", 0},
		{"negative free", `{"e":"outboundAccountPosition","E":1,"u":1,"B":[{"a":"ETH","f":"-1","l":"0"},{"a":"BTC","f":"1","l":"0"}]}`, "f", 1},
		{"entry without asset", `{"e":"outboundAccountPosition","E":1,"u":1,"B":[{"f":"1","l":"0"},{"a":"BTC","f":"1","l":"0"}]}`, "a", 1},
		{"empty asset", `{"e":"outboundAccountPosition","E":1,"u":1,"B":[{"a":"","f":"1","l":"0"}]}`, "a", 0},
		{"balanceUpdate without d", `{"e":"balanceUpdate","E":1,"a":"BTC","T":1}`, "d", 0},
		{"account update without a", `{"e":"ACCOUNT_UPDATE","E":1,"T":1}`, "a", 0},
		{"account update a not an object", `{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":7}`, "a", 0},
		{"position side unknown", `{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"ORDER","B":[],"P":[{"s":"BTCUSDT","pa":"1","ps":"UP"}]}}`, "ps", 0},
		{"long negative", `{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"ORDER","P":[{"s":"BTCUSDT","pa":"-1","ps":"LONG"}]}}`, "pa", 0},
		{"negative entry price", `{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"ORDER","P":[{"s":"BTCUSDT","pa":"1","ep":"-2","ps":"BOTH"}]}}`, "ep", 0},
		{"wallet not a number", `{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"B":[{"a":"USDT","wb":"x"},{"a":"BNB","wb":"1"}]}}`, "wb", 1},
		{"margin call without p", `{"e":"MARGIN_CALL","E":1,"cw":"1"}`, "p", 0},
		{"leverage zero", `{"e":"ACCOUNT_CONFIG_UPDATE","E":1,"T":1,"ac":{"s":"BTCUSDT","l":0}}`, "l", 0},
		{"config without ac or ai", `{"e":"ACCOUNT_CONFIG_UPDATE","E":1,"T":1}`, "ac", 0},
		// Conditional orders and order updates (binance_futures_user.go).
		{"algo without aid", `{"e":"ALGO_UPDATE","E":1,"T":1,"o":{"caid":"x","s":"BTCUSDT","S":"BUY","X":"NEW"}}`, "aid", 0},
		{"algo without o", `{"e":"ALGO_UPDATE","E":1,"T":1}`, "aid", 0},
		{"algo o not an object", `{"e":"ALGO_UPDATE","E":1,"T":1,"o":[1]}`, "o", 0},
		{"algo negative trigger", `{"e":"ALGO_UPDATE","E":1,"T":1,"o":{"aid":1,"s":"BTCUSDT","S":"BUY","X":"NEW","tp":"-1"}}`, "tp", 0},
		{"algo bad side", `{"e":"ALGO_UPDATE","E":1,"T":1,"o":{"aid":1,"s":"BTCUSDT","S":"UP","X":"NEW"}}`, "S", 0},
		{"algo bad symbol", `{"e":"ALGO_UPDATE","E":1,"T":1,"o":{"aid":1,"s":"","S":"BUY","X":"NEW"}}`, "s", 0},
		{"reject without or", `{"e":"CONDITIONAL_ORDER_TRIGGER_REJECT","E":1,"T":1}`, "or", 0},
		{"reject without i", `{"e":"CONDITIONAL_ORDER_TRIGGER_REJECT","E":1,"T":1,"or":{"s":"ETHUSDT","r":"x"}}`, "i", 0},
		{"reject bad time", `{"e":"CONDITIONAL_ORDER_TRIGGER_REJECT","E":-5,"T":1,"or":{"s":"ETHUSDT","i":1,"r":"x"}}`, "E", 0},
		{"order negative rp is fine, bad rp is not", `{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"a","S":"BUY","x":"NEW","X":"NEW","i":1,"rp":"x"}}`, "rp", 0},
		{"order R not a bool", `{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"a","S":"BUY","x":"NEW","X":"NEW","i":1,"R":"yes"}}`, "R", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, sink, _ := newRecParser(t, nil)
			err := p.HandleBytes(context.Background(), []byte(tt.msg), 1)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "got %v", err)
			require.Equal(t, tt.field, pe.Field, "%v", err)
			require.Len(t, notRefused(sink.got), tt.published)
			for _, ev := range sink.got {
				require.NoError(t, ev.Validate())
			}
			require.Zero(t, p.Stats().Unknown)
		})
	}
}

// TestBinanceAccountEmpty: an ACCOUNT_UPDATE whose lists are empty
// publishes nothing and is neither an error nor unknown.
func TestBinanceAccountEmpty(t *testing.T) {
	t.Parallel()
	p, sink, _ := newRecParser(t, nil)
	require.NoError(t, p.HandleBytes(context.Background(), []byte(`{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"ORDER","B":[],"P":null}}`), 1))
	require.Empty(t, sink.got)
	st := p.Stats()
	require.Equal(t, uint64(1), st.Messages)
	require.Zero(t, st.Errors+st.Unknown)
}

// TestBinanceBookTickerBadValue: a bookTicker member that is not a decimal
// is still reported as a bad value of that member (the envelope decode that
// classifies a payload without "e" keeps the fault for the fill).
func TestBinanceBookTickerBadValue(t *testing.T) {
	t.Parallel()
	p, sink, _ := newRecParser(t, nil)
	err := p.HandleBytes(context.Background(), []byte(`{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"x1","A":"40.66000000"}`), 1)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "a", pe.Field)
	require.Empty(t, sink.got)
}

// TestBinanceCoinMAccountUpdate: COIN-M's ACCOUNT_UPDATE has USDⓈ-M's
// shape plus the account alias "i" (skipped); its positions are delivery
// contracts, amounts in contracts (Binance COIN-M "Event: Balance and
// Position Update").
func TestBinanceCoinMAccountUpdate(t *testing.T) {
	t.Parallel()
	evs := handle(t, "coinm_account_update")
	require.Len(t, evs, 3)
	b := evs[0].Balance
	require.Equal(t, "BTC", b.Asset.String())
	requireDigits(t, "122624.12345678", b.Wallet)
	requireDigits(t, "100.12345678", b.CrossWallet)
	requireDigits(t, "50.12345678", b.Delta)
	require.Equal(t, "ORDER", b.Reason)
	long, short := evs[1], evs[2]
	require.Equal(t, "BTC-USD-200925", long.Symbol)
	require.Equal(t, schema.PositionLong, long.Position.Side)
	require.Equal(t, schema.MarginIsolated, long.Position.MarginType)
	requireDigits(t, "20", long.Position.Amount)
	requireDigits(t, "13200.70726908", long.Position.IsolatedWallet)
	require.Equal(t, schema.PositionShort, short.Position.Side)
	requireDigits(t, "-10", short.Position.Amount)
	requireDigits(t, "-45.04000000", short.Position.RealizedPnL)
	requireDigits(t, "-1423.15600", short.Position.UnrealizedPnL)
	require.Equal(t, [2]uint32{2, 3}, [2]uint32{short.Position.Index, short.Position.Count})
}
