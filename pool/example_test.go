package pool_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meltica/meltica/pool"
)

// Buffer is a pooled type: it embeds pool.Header and resets itself.
type Buffer struct {
	pool.Header
	B []byte
}

func (b *Buffer) Reset() { b.B = b.B[:0] }

func Example() {
	p := pool.New("buffers", 2, func() *Buffer { return &Buffer{B: make([]byte, 0, 1024)} }, nil)
	ctx := context.Background()

	buf, err := p.Get(ctx)
	if err != nil {
		panic(err)
	}
	buf.B = append(buf.B, "hello"...)
	fmt.Println(string(buf.B))
	p.Put(buf) // reset and returned: buf MUST NOT be used any more

	st := p.Stats()
	fmt.Println("gets", st.Gets, "puts", st.Puts, "in use", st.InUse)
	fmt.Println(p.Shutdown(ctx))
	// Output:
	// hello
	// gets 1 puts 1 in use 0
	// <nil>
}

func ExamplePool_Get_exhausted() {
	p := pool.New("frames", 1, func() *Buffer { return new(Buffer) }, nil)
	held, _ := p.TryGet()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := p.Get(ctx)
	fmt.Println(errors.Is(err, pool.ErrExhausted), errors.Is(err, context.DeadlineExceeded))
	p.Put(held)
	// Output:
	// true true
}

func ExamplePool_Shutdown_leak() {
	p := pool.New("events", 4, func() *Buffer { return new(Buffer) }, nil)
	_, _ = p.Get(context.Background()) // never returned

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := p.Shutdown(ctx)
	var le *pool.LeakError
	if errors.As(err, &le) {
		fmt.Println(le.Pool, le.Outstanding, errors.Is(err, pool.ErrLeaked))
	}
	// Output:
	// events 1 true
}
