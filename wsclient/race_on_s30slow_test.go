//go:build race

package wsclient

// raceEnabled: the race detector makes each read 5-20x slower; the tests
// that replay whole recorded sessions replay a sample of them with it.
const raceEnabled = true
