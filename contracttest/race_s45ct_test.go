//go:build race

package contracttest_test

// raceEnabled: the race detector's runtime allocates on its own, so
// allocation counts are not measured under it.
const raceEnabled = true
