//go:build !race

package meltica_test

const raceEnabled = false
