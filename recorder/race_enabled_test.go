//go:build race

package recorder_test

// raceEnabled: with the race detector, sync.Pool drops values at random, so
// goccy's pooled encode state is made anew: allocation counts are only
// asserted without it.
const raceEnabled = true
