package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// The account channels' shared samples of OKX, Bybit and Kraken: what
// each must normalise to (merged into venueConformance, so
// TestVenueFilesExplained runs them).
var accountConformance = map[string]venueCase{
	// OKX "Account channel": two currencies of one account, a message of
	// two; ExchangeTS the account's uTime, UpdateTime each detail's.
	"okx_account.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 2)
		b := at(t, evs, 0, ox, schema.EventBalance, "", 0, 1705564223311*ms).Balance
		require.Equal(t, "USDT", b.Asset.String())
		require.Equal(t, schema.BalanceSnapshot, b.Kind)
		requireDigits(t, "4734.371190691436", b.Free)
		requireDigits(t, "158.57998", b.Locked)
		require.Equal(t, 1705564213903*ms, b.UpdateTime)
		require.Equal(t, [2]uint32{0, 2}, [2]uint32{b.Index, b.Count})
		b = at(t, evs, 1, ox, schema.EventBalance, "", 0, 1705564223311*ms).Balance
		require.Equal(t, "BTC", b.Asset.String())
		requireDigits(t, "0.2", b.Free)
		requireDigits(t, "0.05", b.Locked)
		require.Equal(t, [2]uint32{1, 2}, [2]uint32{b.Index, b.Count})
	}},
	// OKX "Positions channel": an isolated long future and a cross short
	// swap, whose positive pos becomes a negative Amount.
	"okx_positions.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 2)
		x := at(t, evs, 0, ox, schema.EventPosition, "ETH-USD-210430", 0, 1619507761462*ms).Position
		require.Equal(t, schema.PositionLong, x.Side)
		require.Equal(t, schema.MarginIsolated, x.MarginType)
		requireDigits(t, "1", x.Amount)
		requireDigits(t, "2566.31", x.EntryPrice)
		requireDigits(t, "2566.4", x.BreakEvenPrice)
		requireDigits(t, "2353.849", x.MarkPrice)
		requireDigits(t, "-0.0000009932766034", x.UnrealizedPnL)
		requireDigits(t, "0.001", x.RealizedPnL)
		requireDigits(t, "0.0003896645377994", x.IsolatedWallet)
		requireDigits(t, "0.0000311811092368", x.MaintMargin)
		require.Equal(t, [2]uint32{0, 2}, [2]uint32{x.Index, x.Count})
		x = at(t, evs, 1, ox, schema.EventPosition, "BTC-USDT-PERP", 0, 1746947317500*ms).Position
		require.Equal(t, schema.PositionShort, x.Side)
		require.Equal(t, schema.MarginCross, x.MarginType)
		requireDigits(t, "-3", x.Amount)
		require.True(t, x.IsolatedWallet.IsZero())
		require.Equal(t, 1746947317402*ms, x.UpdateTime)
		require.Equal(t, [2]uint32{1, 2}, [2]uint32{x.Index, x.Count})
	}},
	// Bybit "Wallet": a unified account's coins, no free amount: wallet
	// balances, Reason the account type.
	"bybit_v5_wallet.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 3)
		for i, want := range [][2]string{{"USDC", "201.34882644"}, {"BTC", "0.06488393"}, {"USDT", "11728.54414904"}} {
			b := at(t, evs, i, by, schema.EventBalance, "", 0, 1672364262482*ms).Balance
			require.Equal(t, want[0], b.Asset.String())
			require.Equal(t, schema.BalanceWallet, b.Kind)
			requireDigits(t, want[1], b.Wallet)
			require.Equal(t, "UNIFIED", b.Reason)
			require.Equal(t, [2]uint32{uint32(i), 3}, [2]uint32{b.Index, b.Count})
		}
	}},
	// Bybit "Position": hedge mode's Sell side (positionIdx 2), closed.
	"bybit_v5_position.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		x := at(t, evs, 0, by, schema.EventPosition, "BTC-USDT", 8327597863, 1697682317044*ms).Position
		require.Equal(t, schema.PositionShort, x.Side)
		require.Equal(t, schema.MarginCross, x.MarginType)
		require.True(t, x.Amount.IsZero())
		requireDigits(t, "28184.5", x.MarkPrice)
		requireDigits(t, "-25.06579337", x.RealizedPnL)
		require.Equal(t, 1697682317038*ms, x.UpdateTime)
		require.Equal(t, [2]uint32{0, 1}, [2]uint32{x.Index, x.Count})
	}},
	// Kraken "Balances": a snapshot of three assets (totals only).
	"kraken_v2_balances_snapshot.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 3)
		for i, want := range [][2]string{{"BTC", "1.2"}, {"MATIC", "500"}, {"USD", "80595.4943"}} {
			b := at(t, evs, i, kr, schema.EventBalance, "", 1, 0).Balance
			require.Equal(t, want[0], b.Asset.String())
			require.Equal(t, schema.BalanceWallet, b.Kind)
			requireDigits(t, want[1], b.Wallet)
			require.True(t, b.Delta.IsZero())
			require.Equal(t, [2]uint32{uint32(i), 3}, [2]uint32{b.Index, b.Count})
		}
	}},
	// Kraken "Balances": a deposit's ledger entry.
	"kraken_v2_balances_update.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, kr, schema.EventBalance, "", 2, 1695378222925034000).Balance
		require.Equal(t, "BTC", b.Asset.String())
		requireDigits(t, "0.01", b.Delta)
		requireDigits(t, "0.02", b.Wallet)
		require.Equal(t, "deposit", b.Reason)
		require.Equal(t, int64(1695378222925034000), b.UpdateTime)
		require.Equal(t, [2]uint32{0, 1}, [2]uint32{b.Index, b.Count})
	}},
}

// Account messages in the zero-allocation test of every venue.
var accountAllocCases = []allocCase{
	shared(ox, "okx_account"),
	shared(ox, "okx_positions"),
	shared(by, "bybit_v5_wallet"),
	shared(by, "bybit_v5_position"),
	shared(kr, "kraken_v2_balances_snapshot"),
	shared(kr, "kraken_v2_balances_update"),
}

func init() {
	for name, c := range accountConformance {
		venueConformance[name] = c
	}
	venueAllocCases = append(venueAllocCases, accountAllocCases...)
}

// TestAccountEntriesRefused: an entry the parser refuses is dropped with
// its *ParseError and leaves its Index out; the other entries of the
// message still come, and a kind run alone is an entry of one.
func TestAccountEntriesRefused(t *testing.T) {
	cases := []struct {
		name  string
		venue schema.Venue
		msg   string
		want  []uint32 // the Index of each event published
		count uint32
		field string
	}{
		{"okx detail without ccy", ox, `{"arg":{"channel":"account"},"data":[{"uTime":"1705564223311","details":[{"availBal":"1","frozenBal":"0"},{"ccy":"BTC","availBal":"2","frozenBal":"0"}]}]}`, []uint32{1}, 2, "ccy"},
		{"okx negative free", ox, `{"arg":{"channel":"account"},"data":[{"uTime":"1","details":[{"ccy":"USDT","availBal":"-1"},{"ccy":"BTC","availBal":"2"}]}]}`, []uint32{1}, 2, "availBal"},
		{"okx position side unknown", ox, `{"arg":{"channel":"positions","instType":"ANY"},"data":[{"instId":"BTC-USDT-SWAP","posSide":"sideways","pos":"1"},{"instId":"BTC-USDT-SWAP","posSide":"net","pos":"-1"}]}`, []uint32{1}, 2, "posSide"},
		{"okx long with negative pos", ox, `{"arg":{"channel":"positions","instType":"ANY"},"data":[{"instId":"BTC-USDT-SWAP","posSide":"long","pos":"-1"}]}`, nil, 1, "pos"},
		{"okx account without details", ox, `{"arg":{"channel":"account"},"data":[{"uTime":"1"}]}`, nil, 0, "details"},
		{"bybit coin without walletBalance", by, `{"topic":"wallet","creationTime":1,"data":[{"accountType":"UNIFIED","coin":[{"coin":"USDT"},{"coin":"BTC","walletBalance":"-0.5"}]}]}`, []uint32{1}, 2, "walletBalance"},
		{"bybit positionIdx unknown", by, `{"topic":"position","creationTime":1,"data":[{"symbol":"BTCUSDT","positionIdx":7,"size":"1","side":"Buy"}]}`, nil, 1, "positionIdx"},
		{"kraken balance without asset", kr, `{"channel":"balances","type":"snapshot","data":[{"balance":1},{"asset":"BTC","balance":2}],"sequence":1}`, []uint32{1}, 2, "asset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(c.venue, events, sink)
			err := p.HandleBytes(context.Background(), []byte(c.msg), 42)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, c.field, pe.Field)
			require.Len(t, sink.got, len(c.want))
			for i, ev := range sink.got {
				require.NoError(t, ev.Validate())
				var idx, count uint32
				if ev.Type == schema.EventPosition {
					idx, count = ev.Position.Index, ev.Position.Count
				} else {
					idx, count = ev.Balance.Index, ev.Balance.Count
				}
				require.Equal(t, c.want[i], idx)
				require.Equal(t, c.count, count)
			}
		})
	}
}

// TestAccountSubscribeRequests: the account channels' subscribe requests.
func TestAccountSubscribeRequests(t *testing.T) {
	b, err := OKXSubscribeAccount()
	require.NoError(t, err)
	require.JSONEq(t, `{"op":"subscribe","args":[{"channel":"account"}]}`, string(b))
	b, err = OKXSubscribePositions("ANY")
	require.NoError(t, err)
	require.JSONEq(t, `{"op":"subscribe","args":[{"channel":"positions","instType":"ANY"}]}`, string(b))
	_, err = OKXSubscribePositions(`AN"Y`)
	require.Error(t, err)
	b, err = KrakenSubscribeBalances("tok", 7, true)
	require.NoError(t, err)
	require.JSONEq(t, `{"method":"subscribe","params":{"channel":"balances","token":"tok","snapshot":true},"req_id":7}`, string(b))
	_, err = KrakenSubscribeBalances("", 7, true)
	require.ErrorIs(t, err, ErrBadValue)
}
