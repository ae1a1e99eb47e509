package recorder_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// FuzzReplay: whatever the bytes, a paced Replay on an injected clock never
// panics, never waits a negative time, hands over exactly the frames it
// counts, and any error it returns is a typed format error.
func FuzzReplay(f *testing.F) {
	hdr := `{"format":"meltica.recording","version":1,"venue":"kraken","t":0}` + "\n"
	f.Add([]byte(hdr+`{"t":5,"conn":1,"seq":1,"text":"a"}`+"\n"+`{"t":1,"conn":2,"seq":1,"bin":"AAE="}`+"\n"), 1.0)
	f.Add([]byte(hdr+`{"t":0,"text":"a"}`+"\n"+`{"t":-9223372036854775808,"text":"b"}`+"\n"+`{"t":9223372036854775807,"out":true}`+"\n"), 0.5)
	f.Add([]byte(hdr+`{"t":1,"text":"a"}`+"\n"+hdr+`{"t":2,"binary":true,"bin":""}`+"\n"), 3.0)
	f.Add(encode(f, true, recorder.Line{Time: 1e18, Conn: 1, Seq: 1, Text: `{"x":1}`}, recorder.Line{Time: 2e18, Conn: 1, Seq: 2, Text: "\u2028"}), 1e-300)
	f.Add([]byte(hdr+`{"t":1,"text":"a","bin":"AA=="}`+"\n"+`{"t":"1"}`), -1.0)
	f.Fuzz(func(t *testing.T, data []byte, speed float64) {
		r, err := recorder.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer r.Close()
		clock := &fakeClock{now: time.Unix(0, 0)}
		var handed uint64
		st, err := recorder.Replay(context.Background(), r, func(_ context.Context, fr *schema.WsFrame) error {
			handed++
			if fr.Provider != "kraken" && fr.Provider != schema.Venue(r.Header().Venue) {
				t.Fatalf("provider %q", fr.Provider)
			}
			return nil
		}, &recorder.ReplayOptions{Paced: true, Speed: speed, Clock: clock})
		if err != nil && !isFormat(err) {
			t.Fatalf("untyped error: %v", err)
		}
		if st.Frames != handed {
			t.Fatalf("stats %d frames, handed %d", st.Frames, handed)
		}
		for _, w := range clock.waits {
			if w <= 0 {
				t.Fatalf("waited %v", w)
			}
		}
	})
}

func isFormat(err error) bool { return errors.Is(err, recorder.ErrFormat) }
