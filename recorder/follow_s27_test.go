package recorder_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// Readers following a recording while a Recorder writes it, concurrently
// (tail -f of a live session): frames of every size, some longer than the
// writer's and the reader's buffers (64 KiB and 256 KiB) so that lines
// reach the file in pieces, flushed every millisecond. Each of two
// readers, on io.EOF or a torn line (ErrCutShort), reads again; each gets
// every frame once, whole, in order, and never anything else.
func TestS27ReadersFollowALiveRecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueBinance, FlushInterval: time.Millisecond, Queue: 4096})
	require.NoError(t, err)
	const n = 200
	payload := func(i int) []byte {
		size := []int{10, 3000, 70 << 10, 300 << 10}[i%4]
		return append(fmt.Appendf(nil, `{"i":%d,"pad":"`, i), append(bytes.Repeat([]byte{'a' + byte(i%26)}, size), `"}`...)...)
	}
	done := make(chan error, 2)
	for range 2 {
		go func() {
			done <- func() error {
				var r *recorder.Reader
				deadline := time.Now().Add(2 * time.Minute)
				for r == nil {
					// The header may not be flushed yet.
					var err error
					r, err = recorder.Open(path)
					if err != nil && time.Now().After(deadline) {
						return err
					}
				}
				defer r.Close()
				for got := 0; got < n; {
					if time.Now().After(deadline) {
						return fmt.Errorf("%d of %d frames", got, n)
					}
					l, err := r.Next()
					if errors.Is(err, io.EOF) || errors.Is(err, recorder.ErrCutShort) {
						continue
					}
					if err != nil {
						return err
					}
					if l.Seq != uint64(got+1) || l.Text != string(payload(got)) {
						return fmt.Errorf("frame %d: seq %d, %d bytes", got+1, l.Seq, len(l.Text))
					}
					got++
				}
				return nil
			}()
		}()
	}
	for i := range n {
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: int64(i + 1), Data: payload(i)}))
	}
	for range 2 {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(3 * time.Minute):
			require.FailNow(t, "a reader is stuck")
		}
	}
	require.NoError(t, rec.Close())
}
