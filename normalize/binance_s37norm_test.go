package normalize

import (
	"strings"
	"testing"

	"github.com/meltica/meltica/schema"
)

// TestS37normBinanceNegativePreventedQtyRefused: Binance spot
// executionReport "A" is the "Prevented Quantity" (Binance "User Data
// Streams", "Order Update"; "Self Trade Prevention (STP) FAQ": "original
// order quantity - executed quantity - prevented quantity = quantity
// available for further execution") — a quantity, never below 0, as "B"
// ("Last Prevented Quantity"). A report with "A":"-1" was delivered with
// the minus ignored (RemainingQty q − z, as if nothing was prevented);
// it is corrupt and refused like a negative "q" or "z" (ErrNegative).
func TestS37normBinanceNegativePreventedQtyRefused(t *testing.T) {
	for _, a := range []string{`"-1"`, `"-0.3"`} {
		msg := strings.Replace(bnExecReport("TRADE_PREVENTION", "PARTIALLY_FILLED", "0", "0.2", "1"), `"V":"NONE"`, `"A":`+a+`,"B":"0.3","V":"DECREMENT"`, 1)
		requireRefused(t, schema.VenueBinance, msg, "A", ErrNegative)
	}
}
