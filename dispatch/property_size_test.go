package dispatch

// propertyEvents is the size of TestProperty's feed: a million events, under
// the race detector too (about a minute on a shared two-core machine).
const propertyEvents = 1_000_000
