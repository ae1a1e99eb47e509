package recorder_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// FuzzReader: whatever the bytes, the reader returns lines or an error,
// never panics, and a line it returns re-encodes to one that reads back the
// same.
func FuzzReader(f *testing.F) {
	var good bytes.Buffer
	w, _ := recorder.NewWriter(&good, false)
	_ = w.WriteHeader(recorder.Line{Venue: "kraken", URL: "wss://ws.kraken.com"})
	_ = w.Write(&recorder.Line{Time: 1, Conn: 1, Seq: 1, Text: `{"event":"heartbeat"}`})
	_ = w.Write(&recorder.Line{Time: 2, Conn: 1, Seq: 2, Binary: true, Bin: []byte{0, 1, 2}})
	_ = w.Close()
	f.Add(good.Bytes())
	var z bytes.Buffer
	zw, _ := recorder.NewWriter(&z, true)
	_ = zw.WriteHeader(recorder.Line{Venue: string(schema.VenueBinance)})
	_ = zw.Write(&recorder.Line{Time: 3, Text: "x"})
	_ = zw.Close()
	f.Add(z.Bytes())
	f.Add([]byte(`{"format":"meltica.recording","version":1,"t":0}` + "\n" + `{"t":"x"}`))
	f.Add([]byte(`{"format":"meltica.recording","version":1,"t":0}` + "\n" + `{"t":1,"bin":"!!"}` + "\n"))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := recorder.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer r.Close()
		for range 1000 {
			l, err := r.Next()
			if errors.Is(err, io.EOF) || err != nil {
				return
			}
			var buf bytes.Buffer
			w, _ := recorder.NewWriter(&buf, false)
			_ = w.WriteHeader(r.Header())
			if err := w.Write(l); err != nil {
				continue // e.g. text that is not UTF-8 cannot be re-encoded as text
			}
			_ = w.Close()
			r2, err := recorder.NewReader(&buf)
			if err != nil {
				t.Fatalf("re-encoded header unreadable: %v", err)
			}
			l2, err := r2.Next()
			if err != nil {
				t.Fatalf("re-encoded line unreadable: %v", err)
			}
			if l2.Time != l.Time || l2.Text != l.Text || !bytes.Equal(l2.Bin, l.Bin) {
				t.Fatalf("line changed: %+v → %+v", l, l2)
			}
			r2.Close()
		}
	})
}
