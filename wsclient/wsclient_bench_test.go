package wsclient

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// BenchmarkRead measures the read path on loopback, from the socket to the
// handler, for the client (impl=wsclient: reader, frame, stamps, liveness
// marks, stats) and for bare coder/websocket reading the same stream with
// Conn.Reader into a reused buffer and calling the same handler
// (impl=bare). The venue writes pre-encoded frames in blocks of 64.
// cpu-ns/frame is the process's CPU time per frame. Compare the two within
// one run:
//
//	go test -run '^$' -bench BenchmarkRead -count 6 ./wsclient/ > read.txt
//	benchstat -col /impl read.txt
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{150, 4096} {
		for _, impl := range []string{"bare", "wsclient"} {
			b.Run(fmt.Sprintf("size=%dB/impl=%s", size, impl), func(b *testing.B) {
				k := newCounter()
				var r *rawVenue
				var stop func()
				if impl == "bare" {
					r, stop = startBare(b, k)
				} else {
					var c *Client
					var runErr chan error
					r, c, runErr = startRaw(b, k)
					stop = func() { stopRaw(b, r, c, runErr) }
				}
				const per = 64
				block := encodeFrames(per, size)
				r.pump(b, k, block, per, 10*per)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				start := time.Now()
				r.pump(b, k, block, per, b.N)
				elapsed := time.Since(start)
				cpu := cpuTime() - cpu0
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "frames/s")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/frame")
				stop()
			})
		}
	}
}

// cpuTime is the CPU time the process has used, all threads (the venue's
// writes included, the same for both implementations). On a loaded machine
// it says more than wall-clock time, which counts the time other
// processes held the CPU.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startBare reads a raw venue with coder/websocket alone: Conn.Reader into
// one reused frame, the same readAll, the same handler.
func startBare(tb testing.TB, k *counter) (*rawVenue, func()) {
	r := newRawVenue(tb)
	ws, _, err := websocket.Dial(context.Background(), r.v.url(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	ws.SetReadLimit(DefaultReadLimit)
	done := make(chan struct{})
	go func() {
		defer close(done)
		bg := context.Background()
		f := &schema.WsFrame{Data: make([]byte, 0, schema.DefaultFrameBuffer)}
		var handle Handler = k.handle // called as the client calls it
		for {
			_, rd, err := ws.Reader(bg)
			if err != nil {
				return
			}
			if f.Data, err = readAll(f.Data[:0], rd, DefaultReadLimit); err != nil {
				return
			}
			_ = handle(bg, f)
		}
	}()
	r.conn = <-r.raw
	return r, func() {
		_ = ws.CloseNow()
		<-done
		r.v.close()
	}
}

// BenchmarkReadLoopParts times the pieces of work the read loop adds per
// message to coder/websocket's own (see readLoop), each alone in a tight
// loop: the UTF-8 check of a 150 B and a 4 KiB ASCII frame, the one clock
// read, and the five atomic operations (two liveness marks, three Stats
// counters) after a 150 B copy, as Add (what the loop does) and as
// single-writer Load+Store (not cheaper on amd64, where Store is an
// XCHG).
//
//	go test -run '^$' -bench ReadLoopParts -count 10 ./wsclient/ > parts.txt
//	benchstat parts.txt
func BenchmarkReadLoopParts(b *testing.B) {
	for _, size := range []int{150, 4096} {
		b.Run(fmt.Sprintf("part=utf8/size=%dB", size), func(b *testing.B) {
			p := bytes.Repeat([]byte{'x'}, size)
			b.SetBytes(int64(size))
			ok := true
			for b.Loop() {
				ok = ok && utf8.Valid(p)
			}
			require.True(b, ok)
		})
	}
	b.Run("part=clock", func(b *testing.B) {
		mono0 := time.Now()
		var sum int64
		for b.Loop() {
			sum += int64(time.Since(mono0))
		}
		require.Positive(b, sum)
	})
	src, dst := make([]byte, 150), make([]byte, 150)
	var st counters
	b.Run("part=atomics/op=add", func(b *testing.B) {
		for b.Loop() {
			copy(dst, src)
			st.messages.Add(1)
			st.bytes.Add(150)
			st.connID.Add(1) // stands for a phase mark
			st.unaligned.Add(1)
			st.lastMessage.Add(1)
		}
	})
	b.Run("part=atomics/op=loadstore", func(b *testing.B) {
		for b.Loop() {
			copy(dst, src)
			st.messages.Store(st.messages.Load() + 1)
			st.bytes.Store(st.bytes.Load() + 150)
			st.connID.Store(st.connID.Load() + 1)
			st.unaligned.Store(st.unaligned.Load() + 1)
			st.lastMessage.Store(st.lastMessage.Load() + 1)
		}
	})
}
