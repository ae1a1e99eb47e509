package book

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// setLoad is what loading a snapshot's side means: every level set in
// the order given (a later level of a price replaces an earlier one, a
// zero quantity deletes) — the reference load is checked against.
func setLoad(bid bool, levels []schema.Level) []schema.Level {
	s := side{bid: bid}
	for _, l := range levels {
		s.set(l.Price, l.Qty)
	}
	return s.lv
}

// randomSide returns n levels in random order, with repeated prices
// (spelled differently: 1.5 and 1.50) and zero quantities.
func randomSide(rng *rand.Rand, n int) []schema.Level {
	out := make([]schema.Level, n)
	for i := range out {
		p := rng.Int64N(int64(n)/2 + 1)
		price := schema.NewDecimal(p, 1)
		if rng.IntN(3) == 0 {
			price = schema.NewDecimal(p*10, 2) // the same price, other digits
		}
		out[i] = schema.Level{Price: price, Qty: schema.NewDecimal(rng.Int64N(3), 0)}
	}
	return out
}

// A snapshot side out of the venue's order (a venue's bug, a peer posing
// as one) is loaded as its levels set one by one would leave it — the
// last of a price wins, digits included; a zero deletes — and in
// O(n log n): set one by one, each level moved the side behind it, O(n²)
// for a large side in random order (BenchmarkLoadUnsorted).
func TestLoadOutOfOrderMatchesSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 29))
	for _, n := range []int{0, 1, 2, 3, 10, 100, 1000} {
		for k := range 20 {
			levels := randomSide(rng, n)
			if k%2 == 0 { // every price once, in random order
				for i, p := range rng.Perm(n) {
					levels[i].Price = schema.NewDecimal(int64(p), 1)
				}
			}
			for _, bid := range []bool{true, false} {
				want := setLoad(bid, levels)
				s := side{bid: bid}
				s.load(levels)
				require.Len(t, s.lv, len(want))
				for i := range want {
					require.True(t, want[i].Price.Identical(s.lv[i].Price) && want[i].Qty.Identical(s.lv[i].Qty),
						"n %d bid %v level %d: %v, want %v", n, bid, i, s.lv[i], want[i])
				}
			}
		}
	}
}

// BenchmarkLoadUnsorted loads a side of 20 000 levels in random order,
// with repeated prices (randomSide) and without: the old way (each level
// set in turn) and load's.
func BenchmarkLoadUnsorted(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	repeated := randomSide(rng, 20000)
	unique := make([]schema.Level, 20000)
	for i, p := range rng.Perm(len(unique)) {
		unique[i] = schema.Level{Price: schema.NewDecimal(int64(p+1), 1), Qty: schema.NewDecimal(1, 0)}
	}
	for _, c := range []struct {
		name   string
		levels []schema.Level
	}{{"unique", unique}, {"repeated", repeated}} {
		b.Run(c.name+"/set", func(b *testing.B) {
			for b.Loop() {
				setLoad(true, c.levels)
			}
		})
		b.Run(c.name+"/load", func(b *testing.B) {
			s := side{bid: true}
			for b.Loop() {
				s.load(c.levels)
			}
		})
	}
}
