package normalize

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// sharedVenues holds real venue messages, copied into the repository
// (testdata/venues, sources in its SOURCES.md) so every clone runs these tests.
const sharedVenues = "../testdata/venues"

const ms = int64(1_000_000)

// binanceConformance says what every binance_* file must normalise to.
var binanceConformance = map[string]func(t *testing.T, evs []*schema.CanonicalEvent){
	"binance_aggTrade.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventTrade, "ETH-BTC", 70232, 1499405254324*ms)
		requireDigits(t, "0.10281118", ev.Trade.Price)
		requireDigits(t, "8.15632997", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side)
		require.Equal(t, "70232", ev.Trade.ID.String())
	},
	"binance_bookTicker.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventBBO, "BTC-USD-200626", 17242169, 0)
		requireDigits(t, "9548.1", ev.BBO.BidPrice)
		requireDigits(t, "52", ev.BBO.BidQty)
		requireDigits(t, "9548.5", ev.BBO.AskPrice)
		requireDigits(t, "11", ev.BBO.AskQty)
	},
	"binance_combined_aggTrade.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventTrade, "NKN-USDT", 15683430, 1633998523963*ms)
		requireDigits(t, "0.35280000", ev.Trade.Price)
		requireDigits(t, "58.00000000", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side)
	},
	"binance_combined_bookTicker.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventBBO, "NKN-USDT", 499869768, 0)
		requireDigits(t, "0.35210000", ev.BBO.BidPrice)
		requireDigits(t, "672.00000000", ev.BBO.BidQty)
		requireDigits(t, "0.35260000", ev.BBO.AskPrice)
		requireDigits(t, "3199.00000000", ev.BBO.AskQty)
	},
	"binance_combined_depthUpdate.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventBookUpdate, "NKN-USDT", 499869752, 1633998512068*ms)
		require.Equal(t, uint64(499869750), ev.Book.FirstSeq)
		require.Equal(t, uint64(499869752), ev.Book.LastSeq)
		require.Len(t, ev.Book.Bids, 3)
		require.Empty(t, ev.Book.Asks)
		requireDigits(t, "0.35130000", ev.Book.Bids[0].Price)
		requireDigits(t, "6195.00000000", ev.Book.Bids[0].Qty)
		requireDigits(t, "0.34640000", ev.Book.Bids[2].Price)
	},
	"binance_combined_depthUpdate_next.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventBookUpdate, "NKN-USDT", 499869754, 1633998512568*ms)
		require.Equal(t, uint64(499869753), ev.Book.FirstSeq)
		requireDigits(t, "0.35170000", ev.Book.Bids[0].Price)
		requireDigits(t, "0.35290000", ev.Book.Asks[0].Price)
		requireDigits(t, "10968.00000000", ev.Book.Asks[0].Qty)
	},
	"binance_combined_kline.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventKlineLive, "NKN-USDT", 19862790, 1633998523963*ms)
		k := ev.Kline
		require.Equal(t, "1m", k.Interval)
		require.False(t, k.Closed)
		require.Equal(t, 1633998480000*ms, k.OpenTime)
		require.Equal(t, 1633998539999*ms, k.CloseTime)
		requireDigits(t, "0.35270000", k.Open)
		requireDigits(t, "0.35280000", k.Close)
		requireDigits(t, "0.35280000", k.High)
		requireDigits(t, "0.35220000", k.Low)
		requireDigits(t, "25877.00000000", k.Volume)
		requireDigits(t, "9116.04600000", k.QuoteVolume)
		require.Equal(t, uint64(30), k.TradeCount)
	},
	"binance_combined_trade.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventTrade, "BNB-BTC", 12345, 123456785*ms)
		requireDigits(t, "0.001", ev.Trade.Price)
		requireDigits(t, "100", ev.Trade.Qty)
		require.Equal(t, schema.SideSell, ev.Trade.Side) // m: buyer was maker
	},
	"binance_depthUpdate.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventBookUpdate, "ETH-BTC", 7913455, 1499404630606*ms)
		require.Equal(t, uint64(7913452), ev.Book.FirstSeq)
		require.Len(t, ev.Book.Bids, 1)
		require.Len(t, ev.Book.Asks, 3)
		requireDigits(t, "0.10376590", ev.Book.Bids[0].Price)
		requireDigits(t, "59.15767010", ev.Book.Bids[0].Qty)
		requireDigits(t, "0.10490700", ev.Book.Asks[2].Price)
		requireDigits(t, "0.00000000", ev.Book.Asks[2].Qty)
	},
	"binance_depth_snapshot.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventBookSnapshot, "NKN-USDT", 499869752, 0)
		require.Equal(t, uint64(499869752), ev.Book.LastSeq)
		require.Len(t, ev.Book.Bids, 609)
		require.Len(t, ev.Book.Asks, 1000)
		requireDigits(t, "0.35250000", ev.Book.Asks[0].Price)
		requireDigits(t, "0.35210000", ev.Book.Bids[0].Price)
		requireDigits(t, "672.00000000", ev.Book.Bids[0].Qty)
	},
	"binance_executionReport_trade.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventExecReport, "FDUSD-USDT", 0, 1709393640518*ms)
		x := ev.Exec
		require.Equal(t, "ios_54d9b18d8e7a4caf9d149573e16480ba", x.ClientOrderID.String())
		require.Equal(t, "98534864", x.VenueOrderID.String())
		require.Equal(t, "73839999", x.TradeID.String())
		require.True(t, x.OrigClientOrderID.IsZero())
		require.Equal(t, schema.SideBuy, x.Side)
		require.Equal(t, schema.OrderTypeLimit, x.Type)
		require.Equal(t, schema.TIFGTC, x.TimeInForce)
		require.Equal(t, schema.ExecTrade, x.ExecType)
		require.Equal(t, schema.StatusFilled, x.Status)
		requireDigits(t, "0.99750000", x.Price)
		requireDigits(t, "100.00000000", x.Qty)
		requireDigits(t, "100.00000000", x.LastFillQty)
		requireDigits(t, "0.99750000", x.LastFillPrice)
		requireDigits(t, "100.00000000", x.CumFillQty)
		requireDigits(t, "99.75000000", x.CumQuoteQty)
		requireDigits(t, "0.00000000", x.RemainingQty)
		requireDigits(t, "0.00000000", x.Fee)
		require.Equal(t, "BNB", x.FeeAsset.String())
		require.Equal(t, "", x.RejectReason)
		require.False(t, x.IsMaker)
		require.Equal(t, 1709393640518*ms, x.TransactTime)
		require.Equal(t, 1709393640518*ms, x.OrderCreated)
	},
	"binance_futures_forceOrder.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventLiquidation, "BTC-USDT", 0, 1568014460893*ms)
		l := ev.Liquidation
		require.Equal(t, schema.SideSell, l.Side)
		requireDigits(t, "9910.00000000", l.Price)
		requireDigits(t, "0.014", l.Qty)
		requireDigits(t, "9910.12345678", l.AvgPrice)
		requireDigits(t, "0.014", l.FilledQty)
		require.Equal(t, schema.StatusFilled, l.Status)
	},
	"binance_futures_markPriceUpdate.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventMarkPrice, "BTC-USDT", 0, 1562305380000*ms)
		m := ev.Mark
		requireDigits(t, "11794.15000000", m.MarkPrice)
		requireDigits(t, "11784.62659091", m.IndexPrice)
		requireDigits(t, "11784.25641265", m.EstSettlePrice)
		requireDigits(t, "0.00038167", m.FundingRate)
		require.Equal(t, 1562306400000*ms, m.NextFundingTime)
	},
	"binance_kline.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventKlineLive, "ETH-BTC", 77465, 1499404907056*ms)
		require.Equal(t, "1m", ev.Kline.Interval)
		requireDigits(t, "0.10278577", ev.Kline.Open)
		requireDigits(t, "0.10278645", ev.Kline.Close)
		requireDigits(t, "17.47929838", ev.Kline.Volume)
		require.Equal(t, uint64(4), ev.Kline.TradeCount)
	},
	"binance_spot_executionReport_wrapped.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventExecReport, "ETH-BTC", 0, 1499405658658*ms)
		x := ev.Exec
		require.Equal(t, "mUvoqJxFIILMdfAW5iGSOW", x.ClientOrderID.String())
		require.Equal(t, "4293153", x.VenueOrderID.String())
		require.True(t, x.TradeID.IsZero(), "t = -1 means no trade")
		require.True(t, x.FeeAsset.IsZero(), "N = null")
		require.Equal(t, schema.ExecNew, x.ExecType)
		require.Equal(t, schema.StatusNew, x.Status)
		requireDigits(t, "0.10264410", x.Price)
		requireDigits(t, "1.00000000", x.Qty)
		requireDigits(t, "1.00000000", x.RemainingQty)
		requireDigits(t, "0", x.Fee)
		require.Equal(t, 1499405658657*ms, x.TransactTime)
	},
	"binance_spot_outboundAccountPosition.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		balances(t, evs, 1709654400000*ms, 1709654400000*ms, "",
			schema.Balance{Asset: schema.MustID("USDT"), Kind: schema.BalanceSnapshot, Free: dec("10000.00000000"), Locked: dec("2500.00000000")},
			schema.Balance{Asset: schema.MustID("ETH"), Kind: schema.BalanceSnapshot, Free: dec("5.00000000"), Locked: dec("0.00000000")})
	},
	"binance_spot_outboundAccountPosition_wrapped.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		balances(t, evs, 1564034571105*ms, 1564034571073*ms, "",
			schema.Balance{Asset: schema.MustID("ETH"), Kind: schema.BalanceSnapshot, Free: dec("10000.000000"), Locked: dec("0.000000")})
	},
	"binance_spot_balanceUpdate.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		balances(t, evs, 1709654400000*ms, 1709654400000*ms, "",
			schema.Balance{Asset: schema.MustID("BTC"), Kind: schema.BalanceDelta, Delta: dec("0.00100000")})
	},
	"binance_spot_balanceUpdate_wrapped.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		balances(t, evs, 1573200697110*ms, 1573200697068*ms, "",
			schema.Balance{Asset: schema.MustID("BTC"), Kind: schema.BalanceDelta, Delta: dec("100.00000000")})
	},
	"binance_futures_ACCOUNT_UPDATE.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		require.Len(t, evs, 4)
		balances(t, evs[:1], 1564745798939*ms, 1564745798939*ms, "ORDER",
			schema.Balance{Asset: schema.MustID("USDT"), Kind: schema.BalanceWallet, Wallet: dec("122624.12345678"),
				CrossWallet: dec("100.12345678"), Delta: dec("50.12345678"), Count: 4})
		want := []schema.Position{
			{Side: schema.PositionBoth, MarginType: schema.MarginIsolated, Amount: dec("0"), EntryPrice: dec("0.00000"),
				BreakEvenPrice: dec("0"), RealizedPnL: dec("200"), UnrealizedPnL: dec("0"), IsolatedWallet: dec("0.00000000")},
			{Side: schema.PositionLong, MarginType: schema.MarginIsolated, Amount: dec("20"), EntryPrice: dec("6563.6"),
				BreakEvenPrice: dec("6563.559"), RealizedPnL: dec("0"), UnrealizedPnL: dec("2850.21200"), IsolatedWallet: dec("13200.70726908")},
			{Side: schema.PositionShort, MarginType: schema.MarginIsolated, Amount: dec("-10"), EntryPrice: dec("6563.8"),
				BreakEvenPrice: dec("6563.861"), RealizedPnL: dec("-45.04000000"), UnrealizedPnL: dec("-1423.15600"), IsolatedWallet: dec("6570.42511771")},
		}
		for i, w := range want {
			ev := evs[1+i]
			require.NoError(t, ev.Validate())
			require.Equal(t, schema.EventPosition, ev.Type)
			require.Equal(t, "BTC-USDT", ev.Symbol)
			require.Equal(t, 1564745798939*ms, ev.ExchangeTS)
			w.Reason, w.UpdateTime, w.Index, w.Count = "ORDER", 1564745798939*ms, uint32(1+i), 4
			requireSameDigits(t, w, *ev.Position)
		}
	},
	"binance_futures_ACCOUNT_UPDATE_bnfcr.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		balances(t, evs, 1781606859764*ms, 1781606859764*ms, "ORDER",
			schema.Balance{Asset: schema.MustID("BNFCR"), Kind: schema.BalanceWallet, Wallet: dec("5001.28983031"),
				CrossWallet: dec("5001.28983031"), Delta: dec("0")})
	},
	"binance_futures_MARGIN_CALL.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventPosition, "ETH-USDT", 0, 1587727187525*ms)
		requireSameDigits(t, schema.Position{Side: schema.PositionLong, MarginType: schema.MarginCross, Amount: dec("1.327"),
			IsolatedWallet: dec("0"), MarkPrice: dec("187.17127"), UnrealizedPnL: dec("-1.166074"), MaintMargin: dec("1.614445"),
			CrossWallet: dec("3.16812045"), MarginCall: true, Reason: "MARGIN_CALL", Count: 1}, *ev.Position)
	},
	"binance_futures_ORDER_TRADE_UPDATE_partial.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventExecReport, "BTC-USDT", 0, 1568879465651*ms)
		x := ev.Exec
		require.Equal(t, "TEST", x.ClientOrderID.String())
		require.Equal(t, "8886774", x.VenueOrderID.String())
		require.Equal(t, "12345678", x.TradeID.String())
		require.Equal(t, schema.SideBuy, x.Side)
		require.Equal(t, schema.ExecTrade, x.ExecType)
		require.Equal(t, schema.StatusPartiallyFilled, x.Status)
		requireDigits(t, "7100.50", x.LastFillPrice)
		requireDigits(t, "0.001", x.LastFillQty)
		requireDigits(t, "0.001", x.CumFillQty)
		requireDigits(t, "0.001", x.RemainingQty)
		requireDigits(t, "0.01000000", x.Fee)
		require.Equal(t, "USDT", x.FeeAsset.String())
		require.True(t, x.IsMaker)
		requireDigits(t, "12.34", x.RealizedPnL) // "rp"
		require.Equal(t, schema.PositionLong, x.PositionSide)
		require.False(t, x.ReduceOnly)
	},
	"binance_futures_ORDER_TRADE_UPDATE_calculated.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		// A liquidation's fill ("x":"CALCULATED", "Liquidation
		// Execution"): a trade, since it moves the position like any
		// fill (binance_futures_user.go), never dropped.
		ev := one(t, evs, schema.EventExecReport, "BTC-USDT", 0, 1568879465651*ms)
		x := ev.Exec
		require.Equal(t, "autoclose-1234567890", x.ClientOrderID.String())
		require.Equal(t, schema.ExecTrade, x.ExecType)
		require.Equal(t, schema.StatusFilled, x.Status)
		require.Equal(t, schema.TIFIOC, x.TimeInForce)
		requireDigits(t, "9910.12", x.AvgPrice)
		requireDigits(t, "0.014", x.LastFillQty)
		requireDigits(t, "0.000", x.RemainingQty)
		requireDigits(t, "0.06937084", x.Fee)
		requireDigits(t, "-5.67", x.RealizedPnL) // "rp"
		require.Equal(t, schema.PositionLong, x.PositionSide)
		require.True(t, x.ReduceOnly)
	},
	"binance_futures_ACCOUNT_CONFIG_UPDATE_leverage.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventControl, "BTC-USDT", 0, 1611646737479*ms)
		require.Equal(t, &schema.Control{Kind: schema.ControlAccountConfig, Reason: "leverage", Value: 25}, ev.Control)
	},
	"binance_futures_ACCOUNT_CONFIG_UPDATE_multiassets.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventControl, "", 0, 1611646737479*ms)
		require.Equal(t, &schema.Control{Kind: schema.ControlAccountConfig, Reason: "multi_assets_mode", Value: 1}, ev.Control)
	},
	"binance_trade.json": func(t *testing.T, evs []*schema.CanonicalEvent) {
		ev := one(t, evs, schema.EventTrade, "BNB-BTC", 12345, 123456785*ms)
		requireDigits(t, "0.001", ev.Trade.Price)
		requireDigits(t, "100", ev.Trade.Qty)
		require.Equal(t, schema.SideSell, ev.Trade.Side)
	},
}

// balances asserts that evs are valid balance events of one venue message
// (event time ts, update time update, reason) with the sections want, in
// order; Index is checked against the position, Count (when want's is 0)
// against len(want).
func balances(t *testing.T, evs []*schema.CanonicalEvent, ts, update int64, reason string, want ...schema.Balance) {
	t.Helper()
	require.Len(t, evs, len(want))
	for i, w := range want {
		ev := evs[i]
		require.NoError(t, ev.Validate())
		require.Equal(t, schema.VenueBinance, ev.Venue)
		require.Equal(t, schema.EventBalance, ev.Type)
		require.Empty(t, ev.Symbol)
		require.Equal(t, ts, ev.ExchangeTS)
		require.Equal(t, int64(42), ev.IngestTS)
		w.Reason, w.UpdateTime, w.Index = reason, update, w.Index+uint32(i)
		if w.Count == 0 {
			w.Count = uint32(len(want))
		}
		requireSameDigits(t, w, *ev.Balance)
	}
}

// requireSameDigits asserts that two sections are equal, decimals digit
// for digit (trailing zeros included).
func requireSameDigits[S any](t *testing.T, want, got S) {
	t.Helper()
	require.Equal(t, fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", got))
}

// one asserts that evs is a single valid event with the given canonical
// fields and returns it.
func one(t *testing.T, evs []*schema.CanonicalEvent, typ schema.EventType, sym string, seq uint64, ts int64) *schema.CanonicalEvent {
	t.Helper()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.NoError(t, ev.Validate())
	require.Equal(t, schema.VenueBinance, ev.Venue)
	require.Equal(t, typ, ev.Type)
	require.Equal(t, sym, ev.Symbol)
	require.Equal(t, seq, ev.SeqProvider)
	require.Equal(t, ts, ev.ExchangeTS)
	require.Equal(t, int64(42), ev.IngestTS)
	return ev
}

func TestBinanceConformance(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedVenues, "binance_*"))
	if len(files) == 0 {
		t.Skipf("no shared venue files in %s", sharedVenues)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			check, ok := binanceConformance[name]
			require.True(t, ok, "no expectation for %s: every file must be explained", name)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			p, sink, _ := newRecParser(t, nil)
			if name == "binance_depth_snapshot.json" { // REST, not a stream message
				require.NoError(t, p.HandleSnapshot(context.Background(), "NKNUSDT", data, 42))
			} else {
				f := &schema.WsFrame{Provider: schema.VenueBinance, Data: data, ReceivedAt: 42}
				require.NoError(t, p.HandleFrame(context.Background(), f))
			}
			check(t, sink.got)
			st := p.Stats()
			require.Equal(t, uint64(len(sink.got)), st.Events)
			require.Zero(t, st.Errors+st.Unknown)
		})
	}
}

// The three NKNUSDT files are one real sequence: the snapshot, then two
// diffs that continue each other, so no gap is reported.
func TestBinanceConformanceSequence(t *testing.T) {
	var frames [][]byte
	for _, n := range []string{"binance_combined_depthUpdate.json", "binance_combined_depthUpdate_next.json"} {
		b, err := os.ReadFile(filepath.Join(sharedVenues, n))
		if err != nil {
			t.Skip("shared venue files absent")
		}
		frames = append(frames, b)
	}
	p, sink, _ := newRecParser(t, nil)
	for _, b := range frames {
		require.NoError(t, p.HandleBytes(context.Background(), b, 1))
	}
	require.Len(t, sink.got, 2)
	require.Zero(t, p.Stats().Gaps)
}
