package normalize

import (
	"errors"
	"fmt"

	"github.com/meltica/meltica/schema"
)

// ErrUnknownStatus: a venue's execution report names an order status the
// parser does not know. The report is dropped with a [*ParseError] (its
// Field the venue's status key) rather than delivered with a status a
// strategy could misread; the error names the word so that the mapping can
// be extended.
var ErrUnknownStatus = errors.New("normalize: unknown order status")

// status sets an order status from the venue's word; a word the table does
// not name is a *ParseError wrapping ErrUnknownStatus. An absent key leaves
// dst unchanged.
func (f *filler) status(dst *schema.OrderStatus, field string, words map[string]schema.OrderStatus, t *text) {
	if !t.ok {
		return
	}
	s, ok := words[string(t.bytes())]
	if !ok {
		f.fail(field, fmt.Errorf("%w %q", ErrUnknownStatus, t.bytes())) // allocates on this error path only
		return
	}
	*dst = s
}

// execRemaining sets the remaining quantity from the venue's own field
// (leavesQty, leaves_quantity), which venues send because the order's
// quantity can change (amendments) or be in another unit.
func (f *filler) execRemaining(field string, n num) {
	f.price(&f.ev.Exec.RemainingQty, field, n)
}

// execCumQuote sets CumQuoteQty = AvgPrice × CumFillQty for venues that send
// only the average price; an overflow leaves it zero.
func execCumQuote(x *schema.Execution) {
	if x.CumQuoteQty.Sign() != 0 || x.AvgPrice.Sign() <= 0 || x.CumFillQty.Sign() <= 0 {
		return
	}
	if q, err := x.AvgPrice.Mul(x.CumFillQty); err == nil {
		x.CumQuoteQty = q
	}
}
