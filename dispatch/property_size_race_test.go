//go:build race

package dispatch

// propertyEvents is the size of TestProperty's feed under the race
// detector, which makes it several times slower: a million takes about two
// minutes on a shared two-core machine, a quarter of that about thirty
// seconds. Without -race the test publishes a million.
const propertyEvents = 250_000
