package natsbridge

import (
	"crypto/sha256"
	"encoding/hex"
)

// maxIDLen is the longest message id the consumer remembers as it is; a
// longer one (a producer's of its own: JetStream takes up to 64 KiB) is
// remembered by its SHA-256, so that Dedup ids cost at most Dedup ×
// maxIDLen bytes, and a hashed id tells reports apart as exactly.
const maxIDLen = 512

// idOf is what the consumer remembers of the message id id.
func (c *Consumer) idOf(id string) string {
	if len(id) <= maxIDLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

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
