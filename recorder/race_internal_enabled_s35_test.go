//go:build race

package recorder

// raceEnabled: the race detector multiplies the cost of reading and
// encoding a line of MaxLine bytes (tens of seconds each on a loaded
// machine), so those tests run without it (CI's coverage step).
const raceEnabled = true
