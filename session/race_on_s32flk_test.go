//go:build race

package session

// raceOn: the race detector is on (race_off_s32flk_test.go: off). A test
// of one goroutine's bookkeeping that costs minutes under it cuts its
// rounds there: the detector finds nothing in one goroutine, and CI's
// coverage step runs the same test in full without it.
const raceOn = true
