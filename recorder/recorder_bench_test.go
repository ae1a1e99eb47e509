package recorder_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// BenchmarkRecord: the tap's hot path (copy into a slot, queue) alone —
// "hot", where most frames meet a full queue and are dropped, the cheapest
// case — and "sustained", where every frame is retried until the writer
// goroutine (encoding to io.Discard) has room: the recorder's end-to-end
// cost per frame.
func BenchmarkRecord(b *testing.B) {
	for _, size := range []int{128, 2048} {
		name := map[int]string{128: "128B", 2048: "2KiB"}[size]
		for _, sustained := range []bool{false, true} {
			b.Run(name+map[bool]string{false: "/hot", true: "/sustained"}[sustained], func(b *testing.B) {
				rec, err := recorder.New("discard", &recorder.Options{Queue: 1024,
					Create: func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }})
				if err != nil {
					b.Fatal(err)
				}
				f := &schema.WsFrame{ConnID: 1, ReceivedAt: 1, Data: bytes.Repeat([]byte(`{"p":"1.5"}`), size/11)}
				b.SetBytes(int64(len(f.Data)))
				b.ReportAllocs()
				for b.Loop() {
					for !rec.Record(f) && sustained {
						runtime.Gosched()
					}
				}
				b.StopTimer()
				_ = rec.Close()
				st := rec.Stats()
				b.ReportMetric(float64(st.Written)/float64(b.N), "written/op")
			})
		}
	}
}

// BenchmarkWriter is the writer goroutine's work per frame: encode a line
// with goccy into the reused buffer, plain and zstd.
func BenchmarkWriter(b *testing.B) {
	for _, compress := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "zstd"}[compress], func(b *testing.B) {
			w, err := recorder.NewWriter(io.Discard, compress)
			if err != nil {
				b.Fatal(err)
			}
			l := &recorder.Line{Time: 1618678132825818800, Conn: 1, Seq: 1,
				Text: `[1664,{"a":[["13.258100","29.25957971","1618678133.021452"]],"c":"2061599046"},"book-1000","WAVES/EUR"]`}
			b.SetBytes(int64(len(l.Text)))
			b.ReportAllocs()
			for b.Loop() {
				l.Seq++
				if err := w.Write(l); err != nil {
					b.Fatal(err)
				}
			}
			_ = w.Close()
		})
	}
}
