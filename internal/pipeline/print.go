package pipeline

import (
	"fmt"
	"io"
	"time"

	"github.com/meltica/meltica/schema"
)

// Describe is one line for an event, with the venue's digits.
func Describe(ev *schema.CanonicalEvent) string {
	ts := time.Unix(0, ev.IngestTS).UTC().Format("15:04:05.000")
	head := fmt.Sprintf("%s %-6s %-9s %-13s", ts, ev.Venue, ev.Symbol, ev.Type)
	switch ev.Type {
	case schema.EventTrade:
		t := &ev.Trade
		return fmt.Sprintf("%s %s %s @ %s", head, t.Side, t.Qty, t.Price)
	case schema.EventBBO:
		b := &ev.BBO
		return fmt.Sprintf("%s %s x %s | %s x %s", head, b.BidQty, b.BidPrice, b.AskPrice, b.AskQty)
	case schema.EventBookSnapshot, schema.EventBookUpdate:
		bk := &ev.Book
		s := fmt.Sprintf("%s %d bids %d asks", head, len(bk.Bids), len(bk.Asks))
		if bk.HasChecksum {
			s += fmt.Sprintf(" checksum %d", bk.Checksum)
		}
		return s
	case schema.EventControl, schema.EventGap:
		var c schema.Control // an event without its section reads as zero
		if ev.Control != nil {
			c = *ev.Control
		}
		return fmt.Sprintf("%s %s %s", head, c.Kind, c.Reason)
	}
	return head
}

// PrintBooks writes the best bid and offer of each book.
func PrintBooks(w io.Writer, books []BookTop) {
	if len(books) == 0 {
		return
	}
	fmt.Fprintln(w, "books at the end (best bid | best offer):")
	for _, b := range books {
		if !b.Live {
			fmt.Fprintf(w, "  %-10s not live\n", b.Symbol)
			continue
		}
		fmt.Fprintf(w, "  %-10s %s x %s | %s x %s\n", b.Symbol, b.BBO.BidQty, b.BBO.BidPrice, b.BBO.AskPrice, b.BBO.AskQty)
	}
}
