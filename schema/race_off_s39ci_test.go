//go:build !race

package schema_test

// raceEnabled: see race_on_s39ci_test.go.
const raceEnabled = false
