package schema

// KeptStorage returns the storage a pooled event keeps for its out-of-line
// sections (a *outOfLine, nil when it has none) and whether the event owns
// it, for the tests of package schema_test.
func KeptStorage(e *CanonicalEvent) (storage any, own bool) {
	if e.kept == nil {
		return nil, false
	}
	return e.kept, e.own() != nil
}
