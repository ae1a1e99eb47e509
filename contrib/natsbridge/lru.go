package natsbridge

// lru is a map bounded to max entries that forgets the least recently used
// one to make room: the consumer's state per subject and per stream, whose
// keys come from whoever publishes on the subjects it reads. Not safe for
// concurrent use.
type lru[K comparable, V any] struct {
	m       map[K]*lruNode[K, V]
	root    lruNode[K, V] // root.next is the most recently used, root.prev the least
	max     int
	evicted uint64
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](bound int) *lru[K, V] {
	bound = max(bound, 1)
	l := &lru[K, V]{m: make(map[K]*lruNode[K, V], min(bound, 1024)), max: bound}
	l.root.prev, l.root.next = &l.root, &l.root
	return l
}

func (l *lru[K, V]) len() int { return len(l.m) }

// get returns the value of k, now the most recently used, and whether it
// was there. A missing k is added with the zero value, the least recently
// used entry forgotten (its node reused) when max are kept. The pointer is
// valid until the next get.
func (l *lru[K, V]) get(k K) (*V, bool) {
	if n := l.m[k]; n != nil {
		l.unlink(n)
		l.pushFront(n)
		return &n.val, true
	}
	var n *lruNode[K, V]
	if len(l.m) >= l.max {
		n = l.root.prev
		l.unlink(n)
		delete(l.m, n.key)
		l.evicted++
		*n = lruNode[K, V]{}
	} else {
		n = new(lruNode[K, V])
	}
	n.key = k
	l.m[k] = n
	l.pushFront(n)
	return &n.val, false
}

func (l *lru[K, V]) unlink(n *lruNode[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	n.prev, n.next = &l.root, l.root.next
	l.root.next.prev = n
	l.root.next = n
}
