package continuity

import (
	"encoding/binary"
	"testing"
)

// FuzzStream feeds arbitrary ids (venue input) to every rule: nothing
// panics, Check changes nothing, a repeat leaves the stream as it was, and
// any other message becomes the stream's last.
func FuzzStream(f *testing.F) {
	seed := func(ids ...uint64) []byte {
		var b []byte
		for _, v := range ids {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		return b
	}
	f.Add(seed(1000, 995, 1003, 990, 1009, 1014, 1003, 1016, 1020, 1014))
	f.Add(seed(100, 0, 107, 100, 0, 107, 107, 0, 3, 107, 0, 5, 3))
	f.Add(seed(2876700, 0, 2876701, 0, 0, 1, 0, 0, 2, 0))
	f.Add(seed(0, 0, 0, ^uint64(0), ^uint64(0), ^uint64(0), 1, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rule := range []Rule{None, Binance, OKX, Bybit, Coinbase} {
			s := Stream{Rule: rule}
			if len(data) >= 8 {
				s.Snapshot(binary.LittleEndian.Uint64(data))
			}
			for b := data[min(8, len(data)):]; len(b) >= 24; b = b[24:] {
				id := IDs{First: binary.LittleEndian.Uint64(b), Last: binary.LittleEndian.Uint64(b[8:]), Prev: binary.LittleEndian.Uint64(b[16:])}
				before := s
				r := s.Check(id)
				if s != before {
					t.Fatalf("%s: Check changed the stream", rule)
				}
				if got := s.Step(id); got != r {
					t.Fatalf("%s: Step %+v, Check %+v", rule, got, r)
				}
				switch {
				case r.Verdict == Repeat && s != before:
					t.Fatalf("%s: a repeat moved the stream", rule)
				case r.Verdict != Repeat && (id.Last != 0 || rule == Coinbase) && s.Last() != id.Last:
					t.Fatalf("%s: %v not accepted: last %d", rule, r.Verdict, s.Last())
				case r.Verdict == Gap && r.MissingFirst > r.MissingLast:
					t.Fatalf("%s: gap range %d..%d", rule, r.MissingFirst, r.MissingLast)
				}
			}
		}
	})
}
