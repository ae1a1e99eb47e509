package benchmarks

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goccy "github.com/goccy/go-json"
	"github.com/gorilla/websocket"

	"github.com/meltica/meltica/benchmarks/baseline"
	"github.com/meltica/meltica/benchmarks/corpus"
	"github.com/meltica/meltica/benchmarks/internal/rawws"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// discard is a normalizer sink that returns every event to its pool.
func discard(p interface {
	Put(*schema.CanonicalEvent)
}) normalize.Sink {
	return normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		p.Put(ev)
		return nil
	})
}

// BenchmarkDecode compares turning one frame into canonical events: the
// baseline's code with encoding/json, the same code with goccy/go-json, and
// Meltica's normalizer.
func BenchmarkDecode(b *testing.B) {
	ctx := context.Background()
	for _, m := range corpus.Messages {
		b.Run("impl=encodingjson/msg="+m.Name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.Frame)))
			for b.Loop() {
				if _, err := baseline.Decode(m.Frame, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("impl=goccy/msg="+m.Name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.Frame)))
			for b.Loop() {
				if _, err := baseline.DecodeWith(goccy.Unmarshal, m.Frame, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("impl=meltica/msg="+m.Name, func(b *testing.B) {
			ps := schema.NewPools(nil)
			p := normalize.NewBinance(ps.Events, discard(ps.Events), nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(m.Frame)))
			for b.Loop() {
				if err := p.HandleBytes(ctx, m.Frame, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var subCounts = []int{1, 4, 16}

// BenchmarkPipeline runs frame bytes → parse → canonical → fan-out to n
// subscribers, cycling through the corpus; one op is one frame. The timer
// covers draining the subscribers too.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	frames := corpus.Frames()
	for _, subs := range subCounts {
		b.Run(fmt.Sprintf("impl=baseline/subs=%d", subs), func(b *testing.B) {
			var got atomic.Int64
			f := baseline.NewFanout(subs, 1024, func(int, *schema.CanonicalEvent) { got.Add(1) })
			b.ReportAllocs()
			start := time.Now()
			i := 0
			for b.Loop() {
				evs, err := baseline.Decode(frames[i%len(frames)], 1)
				if err != nil {
					b.Fatal(err)
				}
				for _, ev := range evs {
					f.Publish(ev)
				}
				i++
			}
			f.Close()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
		b.Run(fmt.Sprintf("impl=meltica/subs=%d", subs), func(b *testing.B) {
			ps := schema.NewPools(nil)
			d := dispatch.New(ps.Events, nil)
			var got atomic.Int64
			for range subs {
				if _, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) { got.Add(1) }}); err != nil {
					b.Fatal(err)
				}
			}
			p := normalize.NewBinance(ps.Events, d, nil)
			b.ReportAllocs()
			start := time.Now()
			i := 0
			for b.Loop() {
				if err := p.HandleBytes(ctx, frames[i%len(frames)], 1); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if err := d.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkFanout hands one decoded trade to n subscribers: a pointer down a
// channel each (baseline) against a heap clone each on its lane (Meltica).
func BenchmarkFanout(b *testing.B) {
	ctx := context.Background()
	ps := schema.NewPools(nil)
	var template *schema.CanonicalEvent
	p := normalize.NewBinance(ps.Events, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		template = ev.Clone()
		ps.Events.Put(ev)
		return nil
	}), nil)
	if err := p.HandleBytes(ctx, corpus.Messages[0].Frame, 1); err != nil {
		b.Fatal(err)
	}
	for _, subs := range subCounts {
		b.Run(fmt.Sprintf("impl=baseline/subs=%d", subs), func(b *testing.B) {
			f := baseline.NewFanout(subs, 1024, func(int, *schema.CanonicalEvent) {})
			b.ReportAllocs()
			for b.Loop() {
				ev := new(schema.CanonicalEvent)
				*ev = *template
				f.Publish(ev)
			}
			f.Close()
		})
		b.Run(fmt.Sprintf("impl=meltica/subs=%d", subs), func(b *testing.B) {
			d := dispatch.New(ps.Events, nil)
			for range subs {
				if _, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				ev, err := ps.Events.Get(ctx)
				if err != nil {
					b.Fatal(err)
				}
				template.CloneInto(ev)
				if err := d.Publish(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			if err := d.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// streamServer serves an endless stream of size-byte text frames.
func streamServer(size int) *rawws.Server {
	payload := make([]byte, size)
	copy(payload, `{"e":"trade","pad":"`)
	for i := 20; i < size-2; i++ {
		payload[i] = 'x'
	}
	copy(payload[size-2:], `"}`)
	var batch []byte
	for len(batch) < 64<<10 {
		batch = rawws.AppendFrame(batch, payload)
	}
	return rawws.Start(func(conn net.Conn, w *bufio.Writer) {
		for {
			if _, err := conn.Write(batch); err != nil {
				return
			}
		}
	})
}

// BenchmarkWSRead reads frames from a loopback server: gorilla's
// ReadMessage (a new buffer per message) against wsclient's pooled frames.
func BenchmarkWSRead(b *testing.B) {
	for _, size := range []int{150, 4096} {
		b.Run(fmt.Sprintf("impl=gorilla/size=%d", size), func(b *testing.B) {
			srv := streamServer(size)
			defer srv.Close()
			c, _, err := websocket.DefaultDialer.Dial(srv.URL(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("impl=meltica/size=%d", size), func(b *testing.B) {
			srv := streamServer(size)
			defer srv.Close()
			var n atomic.Int64
			want := int64(0)
			done := make(chan struct{})
			var once sync.Once
			c, err := wsclient.New(srv.URL(), func(context.Context, *schema.WsFrame) error {
				if n.Add(1) == atomic.LoadInt64(&want) {
					once.Do(func() { close(done) })
				}
				return nil
			}, &wsclient.Options{Venue: schema.VenueBinance, PingInterval: -1, IdleTimeout: -1})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			atomic.StoreInt64(&want, int64(b.N))
			go func() { _ = c.Run(context.Background()) }()
			<-done
			b.StopTimer()
			_ = c.Close(context.Background())
		})
	}
}
