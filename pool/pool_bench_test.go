package pool_test

import (
	"context"
	"sync"
	"testing"

	"github.com/meltica/meltica/pool"
)

// sink keeps new(T) results reachable so the compiler cannot elide them.
var sink *item

// BenchmarkGetPut compares a Get+Put cycle of our pool with a bare sync.Pool
// and with allocating a fresh object each time.
func BenchmarkGetPut(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=meltica", func(b *testing.B) {
		p := pool.New("bench", 64, newItem, nil)
		b.ReportAllocs()
		for b.Loop() {
			it, _ := p.Get(ctx)
			it.N++
			p.Put(it)
		}
	})
	b.Run("impl=meltica-stacks", func(b *testing.B) {
		p := pool.New("bench", 64, newItem, &pool.Options{CaptureStacks: true})
		b.ReportAllocs()
		for b.Loop() {
			it, _ := p.Get(ctx)
			it.N++
			p.Put(it)
		}
	})
	b.Run("impl=syncpool", func(b *testing.B) {
		sp := sync.Pool{New: func() any { return newItem() }}
		b.ReportAllocs()
		for b.Loop() {
			it := sp.Get().(*item)
			it.N++
			it.Reset()
			sp.Put(it)
		}
	})
	b.Run("impl=new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			it := newItem()
			it.N++
			sink = it
		}
	})
}

// BenchmarkGetPutParallel is the same cycle from every P at once.
func BenchmarkGetPutParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=meltica", func(b *testing.B) {
		p := pool.New("bench", 256, newItem, nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				it, _ := p.Get(ctx)
				it.N++
				p.Put(it)
			}
		})
	})
	b.Run("impl=syncpool", func(b *testing.B) {
		sp := sync.Pool{New: func() any { return newItem() }}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				it := sp.Get().(*item)
				it.N++
				it.Reset()
				sp.Put(it)
			}
		})
	})
}
