package wsclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// guardState is what a frameGuard knows after a stream.
type guardState struct {
	inside bool
	err    error
	passed int // bytes Read gave on
}

// runGuard reads stream through a frameGuard in reads of at most chunk
// bytes, then at the end of the stream.
func runGuard(stream []byte, chunk int) guardState {
	g := &frameGuard{rwc: readOnly{bytes.NewReader(stream)}}
	buf := make([]byte, max(1, chunk))
	var st guardState
	for {
		n, err := g.Read(buf)
		st.passed += n
		if err != nil {
			if !errors.Is(err, io.EOF) {
				st.err = err
			}
			st.inside = g.inside()
			return st
		}
	}
}

type readOnly struct{ io.Reader }

func (readOnly) Write(p []byte) (int, error) { return len(p), nil }
func (readOnly) Close() error                { return nil }

// FuzzFrameGuard: the guard never panics, and what it decides does not
// depend on how the stream is cut into reads (one byte at a time, chunk
// bytes, all at once); a masked frame is refused with the bytes before its
// header given on (and the header's first byte, when an earlier read took
// it), and an end inside a message is ErrMessageCut.
func FuzzFrameGuard(f *testing.F) {
	seeds := [][]byte{
		text(`{"a":1}`),
		wsFrame(true, 0, opBinary, make([]byte, 300), 0),
		append([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 3}, 1, 2, 3), // a 64-bit length
		append(wsFrame(false, 0, opText, []byte("ab"), 0), wsFrame(true, 0, opCont, []byte("c"), 0)...),
		append(wsFrame(false, 0, opText, nil, 0), wsFrame(true, 0, opPing, []byte("p"), 0)...),
		wsFrame(true, 0, opText, []byte("m"), 0x01020304),
		append(text("x"), wsFrame(true, 0, opPong, nil, 0x01020304)...),
		{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1},
		{0x81, 0x7e, 0x00},
		closeFrame(1000, "bye"),
	}
	for _, s := range seeds {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		if len(stream) > 4096 {
			return // a byte per read: keep the fuzzer's pace
		}
		whole := runGuard(stream, len(stream))
		for _, c := range []int{1, int(chunk)} {
			got := runGuard(stream, c)
			require.Equal(t, whole.err, got.err, "chunk %d", c)
			if errors.Is(whole.err, ErrMaskedFrame) {
				// The header's first byte may have gone on with an
				// earlier read.
				require.Contains(t, []int{whole.passed, whole.passed + 1}, got.passed, "chunk %d", c)
			} else {
				require.Equal(t, whole.passed, got.passed, "chunk %d", c)
			}
			if whole.err == nil {
				require.Equal(t, whole.inside, got.inside, "chunk %d", c)
			}
		}
		switch {
		case whole.err == nil:
			require.Equal(t, len(stream), whole.passed)
			require.False(t, whole.inside)
		case errors.Is(whole.err, ErrMaskedFrame):
			require.Less(t, whole.passed+1, len(stream))
			require.NotZero(t, stream[whole.passed+1]&0x80, "the frame at %d is masked", whole.passed)
		default:
			require.ErrorIs(t, whole.err, ErrMessageCut)
			require.Equal(t, len(stream), whole.passed)
		}
	})
}

// The guard's frame walk against frames of every length class, cut at
// every byte: the end of the stream inside one is ErrMessageCut, at a
// message's end it is io.EOF.
func TestS27FrameGuardCuts(t *testing.T) {
	msgs := [][]byte{
		text(""),
		text("short"),
		wsFrame(true, 0, opBinary, make([]byte, 126), 0),
		wsFrame(true, 0, opBinary, make([]byte, 65536), 0),
		append(append(wsFrame(false, 0, opText, []byte("a"), 0), wsFrame(true, 0, opPing, nil, 0)...), wsFrame(true, 0, opCont, []byte("b"), 0)...),
	}
	for i, m := range msgs {
		stream := append(text("first"), m...)
		ends := map[int]bool{len(text("first")): true, len(stream): true}
		for cut := 0; cut <= len(stream); cut++ {
			if cut > 300 && cut < len(stream)-300 {
				continue
			}
			st := runGuard(stream[:cut], 7)
			if ends[cut] || cut == 0 {
				require.NoError(t, st.err, "msg %d cut %d", i, cut)
				continue
			}
			require.ErrorIs(t, st.err, ErrMessageCut, "msg %d cut %d", i, cut)
			require.ErrorIs(t, st.err, io.ErrUnexpectedEOF)
		}
	}
}

// BenchmarkFrameGuard is the guard's cost alone: its walk over a read of
// about 4 KiB of the stream (coder/websocket's read buffer) holding whole
// frames of size bytes (one frame when size is 4096).
//
//	go test -run '^$' -bench BenchmarkFrameGuard -benchmem ./wsclient/
func BenchmarkFrameGuard(b *testing.B) {
	for _, size := range []int{150, 4096} {
		b.Run(fmt.Sprintf("size=%dB", size), func(b *testing.B) {
			frame := text(strings.Repeat("x", size))
			n := max(1, 4096/len(frame))
			stream := bytes.Repeat(frame, n)
			var g frameGuard
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				g = frameGuard{}
				if _, err := g.scan(stream); err != nil || g.inside() {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/frame")
		})
	}
}
