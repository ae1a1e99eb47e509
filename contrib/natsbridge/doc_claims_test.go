package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// Subject: "A symbol is a single token: characters that NATS gives a
// meaning ('.', '*', '>', whitespace) become '_', and an empty symbol
// (connection states, venue-wide control) is "_". '-' is an ordinary
// character in NATS subjects and is kept. The type is its String form".
func TestDocSubjectTokens(t *testing.T) {
	for in, want := range map[string]string{
		"BTC-USDT":    "meltica.binance.BTC-USDT.book_update",
		"BTC.USDT":    "meltica.binance.BTC_USDT.book_update",
		"BTC*":        "meltica.binance.BTC_.book_update",
		"BTC>":        "meltica.binance.BTC_.book_update",
		"BTC USDT":    "meltica.binance.BTC_USDT.book_update",
		"BTC\tUSDT\n": "meltica.binance.BTC_USDT_.book_update",
		"":            "meltica.binance._.book_update",
		"币安人生-USDT":   "meltica.binance.币安人生-USDT.book_update",
	} {
		assert.Equal(t, want, Subject(DefaultPrefix, schema.VenueBinance, in, schema.EventBookUpdate), "%q", in)
	}
	assert.Equal(t, "meltica.okx.BTC-USDT.exec_report", Subject(DefaultPrefix, schema.VenueOKX, "BTC-USDT", schema.EventExecReport))
}
