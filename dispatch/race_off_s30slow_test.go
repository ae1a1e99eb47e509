//go:build !race

package dispatch

// raceEnabled: see race_on_s30slow_test.go.
const raceEnabled = false
