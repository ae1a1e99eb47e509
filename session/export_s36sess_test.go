package session

// DrainBound is how long a rotation's switch waits for the answers due on
// the old connection (drainBound).
const DrainBound = drainBound
