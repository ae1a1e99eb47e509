package dispatch

// ring is a FIFO over a circular buffer that grows by doubling. The zero
// value is an empty ring. It is not safe for concurrent use.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func newRing[T any](capacity int) ring[T] { return ring[T]{buf: make([]T, max(capacity, 1))} }

func (r *ring[T]) len() int { return r.n }

func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	i := r.head + r.n
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	r.buf[i] = v
	r.n++
}

// peek returns the oldest element; the ring must not be empty.
func (r *ring[T]) peek() T { return r.buf[r.head] }

// pop removes and returns the oldest element; the ring must not be empty.
// The slot is zeroed so that the ring keeps no reference to it.
func (r *ring[T]) pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
	}
	r.n--
	return v
}

// reset empties the ring, keeping its buffer, and returns how many elements
// it held.
func (r *ring[T]) reset() int {
	n := r.n
	clear(r.buf)
	r.head, r.n = 0, 0
	return n
}

// filter keeps the elements keep accepts, in order, zeroes the slots it
// frees, and returns how many it removed.
func (r *ring[T]) filter(keep func(T) bool) int {
	var zero T
	at := func(i int) int { return (r.head + i) % len(r.buf) }
	w := 0
	for i := range r.n {
		if v := r.buf[at(i)]; keep(v) {
			r.buf[at(w)] = v
			w++
		}
	}
	for i := w; i < r.n; i++ {
		r.buf[at(i)] = zero
	}
	removed := r.n - w
	r.n = w
	return removed
}

func (r *ring[T]) grow() {
	nb := make([]T, max(8, 2*len(r.buf)))
	k := copy(nb, r.buf[r.head:])
	copy(nb[k:], r.buf[:r.head])
	r.buf, r.head = nb, 0
}
