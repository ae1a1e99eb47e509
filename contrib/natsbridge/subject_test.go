package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"meltica.binance.>", "meltica.*.BTC-USDT.*", true},
		{"meltica.binance.>", "meltica.okx.>", false},
		{"meltica.>", "meltica.binance.BTC-USDT.trade", true},
		{"meltica.>", "meltica", false},
		{"meltica.*.*.trade", "meltica.*.*.exec_report", false},
		{"meltica.*.*.trade", "meltica.binance.>", true},
		{"meltica.*.BTC-USDT.*", "meltica.*.ETH-USDT.*", false},
		{"meltica.*.BTC-USDT.*", "meltica.*.BTC-USDT", false},
		{"meltica.binance.BTC-USDT.trade", "meltica.binance.BTC-USDT.trade", true},
		{"meltica.binance.BTC-USDT.trade", "meltica.binance.BTC-USDT.trades", false},
		{"*.*.*.*", "meltica.binance.BTC-USDT.trade", true},
		{">", "a", true},
		{"a.*", "a.b.c", false},
		{"a.>", "a.b.c", true},
	} {
		assert.Equal(t, tc.want, overlap(tc.a, tc.b), "%s ~ %s", tc.a, tc.b)
		assert.Equal(t, tc.want, overlap(tc.b, tc.a), "%s ~ %s", tc.b, tc.a)
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		filter, subj string
		want         bool
	}{
		{"meltica.*.*.exec_report", "meltica.*.*.exec_report", true},
		{"meltica.*.*.*", "meltica.*.*.balance", true},
		{"meltica.>", "meltica.*.*.position", true},
		{">", "meltica.*.*.position", true},
		{"meltica.binance.*.exec_report", "meltica.*.*.exec_report", false},
		{"meltica.*.*.exec_report", "meltica.*.*.order_ack", false},
		{"meltica.*.*", "meltica.*.*.order_ack", false},
		{"meltica.*.*.order_ack.x", "meltica.*.*.order_ack", false},
		{"meltica.*.*.*", "meltica.>", false},
		{"meltica.>", "meltica.>", true},
	} {
		assert.Equal(t, tc.want, covers(tc.filter, tc.subj), "%s covers %s", tc.filter, tc.subj)
	}
}
