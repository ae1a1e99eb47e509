//go:build !race

package dispatch

// propertyEvents is the size of TestProperty's feed.
const propertyEvents = 1_000_000
