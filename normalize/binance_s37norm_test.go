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

// TestS37normBinanceReportOfNoOrderRefused: "i" is the order's id in
// spot's executionReport and USDⓈ-M's ORDER_TRADE_UPDATE (Binance "Order
// Update"; a positive number). A report with "i" null, "" or -1 (the
// spellings an ident reads as no id) was delivered with an empty
// VenueOrderID — a report a host cannot match to any order; it is
// refused as the other venues' reports of no order are (ErrMissingField,
// announced as a lost report).
func TestS37normBinanceReportOfNoOrderRefused(t *testing.T) {
	for _, id := range []string{`null`, `""`, `-1`} {
		spot := strings.Replace(bnExecReport("NEW", "NEW", "0", "0", "1"), `"i":4293153`, `"i":`+id, 1)
		requireRefused(t, schema.VenueBinance, spot, "i", ErrMissingField)
		fut := bnOrderTradeUpdate("NEW", "NEW", "0", "0", "1")
		at := strings.Index(fut, `"i":`)
		end := at + 4 + strings.IndexAny(fut[at+4:], ",}")
		requireRefused(t, schema.VenueBinance, fut[:at]+`"i":`+id+fut[end:], "i", ErrMissingField)
		requireRefused(t, schema.VenueBinance, `{"e":"CONDITIONAL_ORDER_TRIGGER_REJECT","E":1685517224945,"T":1685517224955,"or":{"s":"ETHUSDT","i":`+id+
			`,"r":"Due to your insufficient balance"}}`, "i", ErrMissingField)
	}
}
