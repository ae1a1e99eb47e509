//go:build !race

package session

// raceOn: see race_on_s32flk_test.go.
const raceOn = false
