//go:build !race

package venuesim

const raceEnabled = false
