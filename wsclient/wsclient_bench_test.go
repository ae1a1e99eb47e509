package wsclient

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkRead measures the client's read path on loopback: frames a
// second and ns a frame, from the socket to the handler and back to the
// pool. The venue writes pre-encoded frames in blocks of 64.
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{150, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			k := newCounter()
			r, c, runErr := startRaw(b, k)
			const per = 64
			block := encodeFrames(per, size)
			r.pump(b, k, block, per, 10*per)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			r.pump(b, k, block, per, b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "frames/s")
			stopRaw(b, r, c, runErr)
		})
	}
}
