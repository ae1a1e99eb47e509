package natsbridge

// dedup remembers the last n ids it was given: a set with a ring that
// evicts the oldest. Not safe for concurrent use.
type dedup struct {
	set  map[string]struct{}
	ring []string
	next int
}

func newDedup(n int) dedup {
	return dedup{set: make(map[string]struct{}, n), ring: make([]string, n)}
}

func (d *dedup) has(id string) bool {
	_, ok := d.set[id]
	return ok
}

func (d *dedup) add(id string) {
	if old := d.ring[d.next]; old != "" {
		delete(d.set, old)
	}
	d.ring[d.next] = id
	d.set[id] = struct{}{}
	d.next = (d.next + 1) % len(d.ring)
}
