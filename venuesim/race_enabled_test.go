//go:build race

package venuesim

// raceEnabled: with the race detector, sync.Pool drops values at random, so
// goccy's pooled decode and encode state is made anew: allocation counts
// are only asserted without it.
const raceEnabled = true
