//go:build race

package schema_test

// raceEnabled: the race detector makes the oracle comparisons (math/big
// against Decimal, on one goroutine: nothing for it to find) 10-20x
// slower. The volume tests draw a tenth of their cases with it (see
// volume); CI's run without it (.ci/run, the coverage step) draws them all.
const raceEnabled = true
