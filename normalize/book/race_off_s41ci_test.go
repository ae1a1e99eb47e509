//go:build !race

package book

// raceEnabled: see race_on_s41ci_test.go.
const raceEnabled = false
