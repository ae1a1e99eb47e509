//go:build !race

package wsclient

// raceEnabled: see race_on_s30slow_test.go.
const raceEnabled = false
