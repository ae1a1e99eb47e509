//go:build race

package book

// raceEnabled: the single-goroutine model tests run a share of their
// volume under the race detector (which finds nothing on one goroutine);
// CI's run without it runs them in full.
const raceEnabled = true
