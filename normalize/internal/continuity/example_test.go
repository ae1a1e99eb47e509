package continuity_test

import (
	"fmt"

	"github.com/meltica/meltica/normalize/internal/continuity"
)

// A parser's use: one Stream per (symbol) book stream, Snapshot on a
// snapshot message, Step on each diff; a Gap becomes a gap marker with
// the missing ids, a Repeat is dropped and counted.
func ExampleStream_Step() {
	s := continuity.Stream{Rule: continuity.OKX}
	s.Snapshot(100) // books snapshot, seqId 100
	for _, id := range []continuity.IDs{
		{Prev: 100, Last: 107}, // continues
		{Prev: 107, Last: 107}, // keep-alive
		{Prev: 100, Last: 107}, // sent again: a repeat
		{Prev: 107, Last: 3},   // reset after maintenance
		{Prev: 9, Last: 12},    // seqIds 4..9 lost
	} {
		r := s.Step(id)
		switch r.Verdict {
		case continuity.Gap:
			fmt.Println("gap, missing", r.MissingFirst, "to", r.MissingLast)
		default:
			fmt.Println(r.Verdict, "keep-alive:", r.KeepAlive, "renumbered:", r.Renumbered)
		}
	}
	// Output:
	// continuous keep-alive: false renumbered: false
	// continuous keep-alive: true renumbered: false
	// repeat keep-alive: false renumbered: false
	// continuous keep-alive: false renumbered: true
	// gap, missing 4 to 9
}

// Coinbase: one Stream per connection, Reset when the connection changes
// (wsclient's frame ConnID); a gap marks every book of the connection.
func ExampleStream_Reset() {
	s := continuity.Stream{Rule: continuity.Coinbase}
	for _, n := range []uint64{0, 1, 2, 5} {
		fmt.Println(n, s.Step(continuity.IDs{Last: n}).Verdict)
	}
	s.Reset() // a new connection counts from 0 again
	fmt.Println(0, s.Step(continuity.IDs{Last: 0}).Verdict)
	// Output:
	// 0 continuous
	// 1 continuous
	// 2 continuous
	// 5 gap
	// 0 continuous
}
