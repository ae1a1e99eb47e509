//go:build race

package dispatch

// raceEnabled: the race detector makes each Publish and delivery 5-20x
// slower; the tests that publish hundreds of thousands of events to prove
// a bound publish fewer with it, still enough to break the bound for an
// implementation without it.
const raceEnabled = true
