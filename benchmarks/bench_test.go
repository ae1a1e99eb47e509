package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	coder "github.com/coder/websocket"
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

// fanoutStats sums the subscriptions' counters after Close and reports
// them per op beside the times: where Meltica drops (a full ordered lane,
// oldest first, announced by a gap marker) or coalesces (a newer BBO of
// the same stream replaces a queued one), the baseline blocks instead, and
// its rows say 0.
func reportFanout(b *testing.B, subs []*dispatch.Subscription) {
	var st dispatch.Stats
	for _, s := range subs {
		x := s.Stats()
		st.Delivered += x.Delivered
		st.Dropped += x.Dropped
		st.Gaps += x.Gaps
		st.Coalesced += x.Coalesced
		st.MaxDepth = max(st.MaxDepth, x.MaxDepth)
	}
	n := float64(b.N)
	b.ReportMetric(float64(st.Delivered)/n, "delivered/op")
	b.ReportMetric(float64(st.Dropped)/n, "dropped/op")
	b.ReportMetric(float64(st.Gaps)/n, "gaps/op")
	b.ReportMetric(float64(st.Coalesced)/n, "coalesced/op")
	b.ReportMetric(float64(st.MaxDepth), "maxdepth")
}

// reportBlocking is reportFanout for the baseline, which delivers
// everything (blocking the publisher when a subscriber's channel is full).
func reportBlocking(b *testing.B, delivered int64) {
	b.ReportMetric(float64(delivered)/float64(b.N), "delivered/op")
	for _, unit := range []string{"dropped/op", "gaps/op", "coalesced/op"} {
		b.ReportMetric(0, unit)
	}
}

// cpuTime is the CPU time the process has used, all threads: the
// publisher, the subscribers' goroutines and the garbage collector.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since cpu0, draining included. On
// a shared machine it is steadier than the wall time: time spent waiting
// for a CPU is not counted.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// melticaModes are the dispatcher's two ways to deliver: "meltica", a lane
// and goroutine per subscription (the default), and "meltica-inline",
// each handler called on the publisher's goroutine
// (dispatch.SubscribeOptions.Inline).
var melticaModes = []struct {
	name   string
	inline bool
}{{"meltica", false}, {"meltica-inline", true}}

// subscribe adds n subscriptions whose handler counts into got, inline or
// on lanes of their own.
func subscribe(b *testing.B, d *dispatch.Dispatcher, n int, got *atomic.Int64, inline bool) []*dispatch.Subscription {
	subs := make([]*dispatch.Subscription, n)
	for i := range subs {
		s, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) { got.Add(1) }, Inline: inline})
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = s
	}
	return subs
}

// BenchmarkPipeline runs frame bytes → parse → canonical → fan-out to n
// subscribers over the corpus replayed as a continuing stream
// (corpus.Stream: every pass moves the sequences on, so Meltica emits no
// gap marker and drops no repeat, and both do the same work); one op is one
// frame. The timer covers draining the subscribers too. meltica-inline
// calls every handler on the publisher's goroutine (melticaModes).
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	for _, subs := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("impl=baseline/subs=%d", subs), func(b *testing.B) {
			var got atomic.Int64
			f := baseline.NewFanout(subs, 1024, func(int, *schema.CanonicalEvent) { got.Add(1) })
			stream := corpus.NewStream()
			b.ReportAllocs()
			start, cpu0 := time.Now(), cpuTime()
			for b.Loop() {
				evs, err := baseline.Decode(stream.Next(), 1)
				if err != nil {
					b.Fatal(err)
				}
				for _, ev := range evs {
					f.Publish(ev)
				}
			}
			f.Close()
			reportCPU(b, cpu0)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			reportBlocking(b, got.Load())
		})
		for _, m := range melticaModes {
			b.Run(fmt.Sprintf("impl=%s/subs=%d", m.name, subs), func(b *testing.B) {
				ps := schema.NewPools(nil)
				d := dispatch.New(ps.Events, nil)
				var got atomic.Int64
				ss := subscribe(b, d, subs, &got, m.inline)
				p := normalize.NewBinance(ps.Events, d, nil)
				stream := corpus.NewStream()
				b.ReportAllocs()
				start, cpu0 := time.Now(), cpuTime()
				for b.Loop() {
					if err := p.HandleBytes(ctx, stream.Next(), 1); err != nil {
						b.Fatal(err)
					}
				}
				if err := d.Close(ctx); err != nil {
					b.Fatal(err)
				}
				reportCPU(b, cpu0)
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
				reportFanout(b, ss)
			})
		}
	}
}

// BenchmarkFanout hands one decoded trade to n subscribers: a pointer down a
// channel each (baseline) against a heap clone each on its lane (Meltica)
// or handed to its handler on the publisher's goroutine (meltica-inline).
// The baseline copies the event once per publish, as its decoder would
// allocate it. alloc-floor (allocFloor) is the least any publish of owned
// clones costs in Go: one fresh array of n events, the trade's fields
// copied, a call each; Meltica's cost per extra subscriber minus its is
// what the dispatcher adds.
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
	// next is a pooled copy of the trade, as the normalizer hands it on.
	next := func(b *testing.B) *schema.CanonicalEvent {
		ev, err := ps.Events.Get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		template.CloneInto(ev)
		return ev
	}
	for _, subs := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("impl=baseline/subs=%d", subs), func(b *testing.B) {
			var got atomic.Int64
			f := baseline.NewFanout(subs, 1024, func(int, *schema.CanonicalEvent) { got.Add(1) })
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				ev := new(schema.CanonicalEvent)
				*ev = *template
				f.Publish(ev)
			}
			f.Close()
			reportCPU(b, cpu0)
			reportBlocking(b, got.Load())
		})
		b.Run(fmt.Sprintf("impl=alloc-floor/subs=%d", subs), func(b *testing.B) {
			var got atomic.Int64
			handler := func(*schema.CanonicalEvent) { got.Add(1) }
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				ev := next(b)
				allocFloor(ev, subs, handler)
				ps.Events.Put(ev)
			}
			reportCPU(b, cpu0)
			reportBlocking(b, got.Load())
		})
		for _, m := range melticaModes {
			b.Run(fmt.Sprintf("impl=%s/subs=%d", m.name, subs), func(b *testing.B) {
				d := dispatch.New(ps.Events, nil)
				var got atomic.Int64
				ss := subscribe(b, d, subs, &got, m.inline)
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if err := d.Publish(ctx, next(b)); err != nil {
						b.Fatal(err)
					}
				}
				if err := d.Close(ctx); err != nil {
					b.Fatal(err)
				}
				reportCPU(b, cpu0)
				reportFanout(b, ss)
			})
		}
	}
}

// allocFloor is the least a publish of a trade to subs owned clones
// can cost in Go: one fresh array of subs events, the fields a trade's
// clone copies (common fields and the trade), and a call per clone. No
// dispatcher, no filter, no accounting: the allocation and the garbage
// collector's share of it are what it measures (BenchmarkFanout's
// impl=alloc-floor).
func allocFloor(src *schema.CanonicalEvent, subs int, handler func(*schema.CanonicalEvent)) {
	slab := make([]schema.CanonicalEvent, subs)
	for i := range slab {
		c := &slab[i]
		c.Venue, c.Symbol, c.Type = src.Venue, src.Symbol, src.Type
		c.SeqProvider, c.ExchangeTS, c.IngestTS = src.SeqProvider, src.ExchangeTS, src.IngestTS
		c.TraceID, c.DecisionID = src.TraceID, src.DecisionID
		c.Trade = src.Trade
		handler(c)
	}
}

// streamBlock returns at least 64 KiB of size-byte text frames, whole
// frames only, so that it can be sent (or read) over and over.
func streamBlock(size int) []byte {
	payload := make([]byte, size)
	copy(payload, `{"e":"trade","pad":"`)
	for i := 20; i < size-2; i++ {
		payload[i] = 'x'
	}
	copy(payload[size-2:], `"}`)
	var block []byte
	for len(block) < 64<<10 {
		block = rawws.AppendFrame(block, payload)
	}
	return block
}

// streamServer serves an endless stream of size-byte text frames.
func streamServer(size int) *rawws.Server {
	block := streamBlock(size)
	return rawws.Start(func(conn net.Conn, _ *bufio.Writer) {
		for {
			if _, err := conn.Write(block); err != nil {
				return
			}
		}
	})
}

// wsSource is where a WSRead client dials: a loopback server, or memory.
type wsSource struct {
	url   string
	hc    *http.Client // nil: the client's default
	close func()
}

func loopbackSource(size int) wsSource {
	srv := streamServer(size)
	return wsSource{url: srv.URL(), close: srv.Close}
}

func memSource(size int) wsSource {
	return wsSource{url: "ws://mem/", hc: rawws.MemClient(streamBlock(size)), close: func() {}}
}

// BenchmarkWSRead reads frames from a loopback server: gorilla's
// ReadMessage (a new buffer per message), bare coder/websocket (Reader
// into one reused buffer: the floor for wsclient, which is built on it)
// and wsclient's read loop handing pooled frames to a handler, with its
// default UTF-8 check of text frames (meltica) and without it
// (meltica-noutf8, Options.SkipUTF8Check). Neither gorilla nor coder
// checks UTF-8, so meltica-noutf8 against coder compares the same work;
// meltica is what a default client costs. Every implementation reads the
// same stream from a server of its own, and its timer starts after
// warmReads messages on a connected, warm connection. cpu-ns/op is the
// process's CPU time per message (the server's writes included, the same
// for all).
func BenchmarkWSRead(b *testing.B) { benchWSRead(b, loopbackSource, true) }

// BenchmarkWSReadMem is BenchmarkWSRead without the network: the
// connection reads the same frames from memory (rawws.MemClient), so that
// the time per message is the client's own parsing and bookkeeping, with
// no system call, no writer and no scheduler in it. It is steadier than
// WSRead on a loaded machine, and stricter: the read loop's overhead is
// measured against coder's parsing alone. (gorilla dials without an
// http.Client and is not in it.)
func BenchmarkWSReadMem(b *testing.B) { benchWSRead(b, memSource, false) }

func benchWSRead(b *testing.B, source func(size int) wsSource, gorilla bool) {
	const warmReads = 1000
	for _, size := range []int{150, 4096} {
		if gorilla {
			b.Run(fmt.Sprintf("impl=gorilla/size=%d", size), func(b *testing.B) {
				src := source(size)
				defer src.close()
				c, _, err := websocket.DefaultDialer.Dial(src.url, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				benchReads(b, size, warmReads, func() {
					if _, _, err := c.ReadMessage(); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
		b.Run(fmt.Sprintf("impl=coder/size=%d", size), func(b *testing.B) {
			src := source(size)
			defer src.close()
			ctx := context.Background()
			c, _, err := coder.Dial(ctx, src.url, &coder.DialOptions{HTTPClient: src.hc})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = c.CloseNow() }()
			var buf bytes.Buffer // reused: no allocation once grown
			benchReads(b, size, warmReads, func() {
				_, r, err := c.Reader(ctx)
				if err != nil {
					b.Fatal(err)
				}
				buf.Reset()
				if _, err := buf.ReadFrom(r); err != nil {
					b.Fatal(err)
				}
			})
		})
		for _, skipUTF8 := range []bool{false, true} {
			name := "meltica"
			if skipUTF8 {
				name = "meltica-noutf8"
			}
			b.Run(fmt.Sprintf("impl=%s/size=%d", name, size), func(b *testing.B) {
				src := source(size)
				defer src.close()
				benchWSReadMeltica(b, src, size, warmReads, skipUTF8)
			})
		}
	}
}

// benchReads times read, which reads one message of size bytes, after
// warm untimed reads.
func benchReads(b *testing.B, size, warm int, read func()) {
	for range warm {
		read()
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		read()
	}
	reportCPU(b, cpu0)
}

// benchWSReadMeltica is BenchmarkWSRead's wsclient case. The handler
// pauses the read loop at message pauseAt (the loop is synchronous with
// it): once after warm messages, so the timer starts on a connected, warm
// client, and once after b.N more.
func benchWSReadMeltica(b *testing.B, src wsSource, size, warm int, skipUTF8 bool) {
	var n, pauseAt int
	paused, resume := make(chan struct{}), make(chan struct{})
	c, err := wsclient.New(src.url, func(context.Context, *schema.WsFrame) error {
		if n++; n == pauseAt {
			paused <- struct{}{}
			<-resume
		}
		return nil
	}, &wsclient.Options{Venue: schema.VenueBinance, HTTPClient: src.hc, PingInterval: -1, IdleTimeout: -1, SkipUTF8Check: skipUTF8})
	if err != nil {
		b.Fatal(err)
	}
	pauseAt = warm
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(context.Background()) }()
	select {
	case <-paused:
	case err := <-runErr:
		b.Fatalf("Run returned before the warm-up ended: %v", err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	pauseAt = n + b.N // read by the handler after resume
	resume <- struct{}{}
	<-paused
	b.StopTimer()
	reportCPU(b, cpu0)
	close(resume)
	_ = c.Close(context.Background())
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, wsclient.ErrClosed) {
		b.Log(err)
	}
}
