package recorder_test

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// flakyDisk fails the writes in [failFrom, failTo) of its byte stream
// with ENOSPC (the disk full for a while, then freed: a log rotated, a
// snapshot deleted), and takes the rest.
type flakyDisk struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	failed   bool
	failFrom int
	closed   bool
}

func (d *flakyDisk) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.failed && d.buf.Len()+len(p) > d.failFrom {
		d.failed = true
		room := d.failFrom - d.buf.Len()
		d.buf.Write(p[:room])
		return room, syscall.ENOSPC
	}
	return d.buf.Write(p)
}

func (d *flakyDisk) Close() error { d.mu.Lock(); d.closed = true; d.mu.Unlock(); return nil }

func (d *flakyDisk) isClosed() bool { d.mu.Lock(); defer d.mu.Unlock(); return d.closed }

// A write that fails ends the recording, and says so at once: the
// buffered writer under the file keeps its first error (bufio.Writer:
// "all subsequent writes, and Flush, will return the error"), so every
// later frame is lost whatever the disk does next, and a torn line sits
// at the file's end. The recorder went on counting them in
// Stats.WriteErrors, Err said nil, and `meltica record` ran for hours
// recording nothing (its Progress stops on Err). Now Err returns the
// disk's error (ErrWriteFailed, matching ENOSPC) as soon as the writer
// meets it, the file is closed, and what reached it reads back to the
// break, a cut that the Reader reports (ErrCutShort) and nothing after.
func TestS27WriteFailureEndsTheRecording(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "zstd"}[compress], func(t *testing.T) {
			disk := &flakyDisk{failFrom: 10 << 10}
			rec, err := recorder.New("flaky.jsonl", &recorder.Options{
				Compress: compress, Queue: 16, FlushInterval: time.Millisecond, FrameBytes: 512,
				Create: func(string) (io.WriteCloser, error) { return disk, nil },
			})
			require.NoError(t, err)
			data := bytes.Repeat([]byte("x"), 300)
			seq := uint64(0)
			require.Eventually(t, func() bool {
				// Frames go on arriving, as from a stream, until the
				// recorder says the recording ended.
				seq++
				rec.Record(&schema.WsFrame{ConnID: 1, Seq: seq, ReceivedAt: int64(seq), Data: append(data[:0:0], data...)})
				return rec.Err() != nil
			}, time.Minute, time.Microsecond, "Err tells that the recording ended")
			require.ErrorIs(t, rec.Err(), recorder.ErrWriteFailed)
			require.ErrorIs(t, rec.Err(), syscall.ENOSPC)
			require.Eventually(t, disk.isClosed, time.Minute, time.Millisecond, "the broken file is closed")
			for range 50 {
				seq++
				rec.Record(&schema.WsFrame{ConnID: 1, Seq: seq, ReceivedAt: int64(seq), Data: data})
			}
			err = rec.Close()
			require.ErrorIs(t, err, syscall.ENOSPC)
			st := rec.Stats()
			assert.Equal(t, st.Frames, st.Written+st.WriteErrors, "every frame written or counted lost: %+v", st)
			assert.Equal(t, 1, st.Files, "no second file")

			r, err := recorder.NewReader(bytes.NewReader(disk.buf.Bytes()))
			require.NoError(t, err)
			defer r.Close()
			var read, last uint64
			for {
				l, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					require.ErrorIs(t, err, recorder.ErrCutShort, "the break is a cut, nothing after it")
					_, err = r.Next()
					require.ErrorIs(t, err, io.EOF)
					break
				}
				read++
				require.Greater(t, l.Seq, last, "in order (frames the full queue dropped are missing)")
				last = l.Seq
			}
			assert.GreaterOrEqual(t, read, st.Written)
		})
	}
}
