package recorder_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/meltica/meltica/recorder"
)

// growing is a file being written: Read returns what was written so far,
// then io.EOF until more comes.
type growing struct{ data, more []byte }

func (g *growing) Read(p []byte) (int, error) {
	if len(g.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.data)
	g.data = g.data[n:]
	return n, nil
}

// grow makes the next n bytes readable.
func (g *growing) grow(n int) {
	n = min(n, len(g.more))
	g.data, g.more = append(g.data, g.more[:n]...), g.more[n:]
}

// FuzzReaderTail: a recording read while the Writer writes it, in pieces
// of any size, gives the same frames, in order, as the whole file read at
// once: a torn line is reported and then completed, never lost, doubled or
// read in halves.
func FuzzReaderTail(f *testing.F) {
	f.Add(`{"event":"heartbeat"}`, []byte{0, 1, 2, '\n', 0xff}, "line\nbreak \u2028 \"quoted\"", uint16(1), uint16(7))
	f.Add(`{}`, []byte{}, "\xff\xfe", uint16(60), uint16(1))
	f.Add(" ", []byte("{\"t\":1}\n"), "}", uint16(50), uint16(3))
	f.Fuzz(func(t *testing.T, a string, b []byte, c string, first, step uint16) {
		lines := []recorder.Line{{Time: 1, Conn: 1, Seq: 1}, {Time: 2, Conn: 1, Seq: 2, Binary: true, Bin: b}, {Time: -3, Conn: 2, Seq: 1}}
		for i, s := range map[int]string{0: a, 2: c} {
			if utf8.ValidString(s) {
				lines[i].Text = s
			} else {
				lines[i].Bin = []byte(s)
			}
		}
		data := encode(t, false, lines...)
		whole := readFrames(t, bytes.NewReader(data))
		if len(whole) != len(lines) {
			t.Fatalf("whole file: %d frames of %d", len(whole), len(lines))
		}
		g := &growing{more: data}
		g.grow(int(first))
		var r *recorder.Reader
		for r == nil {
			var err error
			if r, err = recorder.NewReader(g); err != nil {
				if len(g.more) == 0 {
					t.Fatalf("header unreadable in pieces, readable whole: %v", err)
				}
				// The header is torn: start again once more is written, as
				// a tailer would.
				g.data, g.more = nil, data
				first += max(step, 1)
				g.grow(int(first))
			}
		}
		defer r.Close()
		var got []recorder.Line
		for range 1_000_000 {
			l, err := r.Next()
			if err == nil {
				got = append(got, cloneLine(l))
				continue
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("after %d frames: %v", len(got), err)
			}
			if len(g.more) == 0 {
				break
			}
			g.grow(int(max(step, 1)))
		}
		if len(got) != len(whole) {
			t.Fatalf("read in pieces %d frames, whole %d", len(got), len(whole))
		}
		for i := range got {
			if got[i].Seq != whole[i].Seq || got[i].Time != whole[i].Time || got[i].Text != whole[i].Text || !bytes.Equal(got[i].Bin, whole[i].Bin) {
				t.Fatalf("frame %d: in pieces %+v, whole %+v", i, got[i], whole[i])
			}
		}
	})
}

// readFrames reads every frame of a whole stream, nil when its header is
// refused; it stops at the first error.
func readFrames(t *testing.T, src io.Reader) []recorder.Line {
	r, err := recorder.NewReader(src)
	if err != nil {
		return nil
	}
	defer r.Close()
	out := []recorder.Line{}
	for range 100_000 {
		l, err := r.Next()
		if err != nil {
			break
		}
		out = append(out, cloneLine(l))
	}
	return out
}

func cloneLine(l *recorder.Line) recorder.Line {
	c := *l
	c.Bin = bytes.Clone(l.Bin)
	return c
}
