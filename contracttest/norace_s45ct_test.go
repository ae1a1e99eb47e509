//go:build !race

package contracttest_test

const raceEnabled = false
