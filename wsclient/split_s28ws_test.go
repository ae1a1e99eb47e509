package wsclient

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	rec "github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// shippedRecording is the recorded Kraken session in the repository.
const shippedRecording = "../testdata/recordings/kraken-v1-book-2021-04-17.jsonl.zst"

// recordedMessages returns the received frames of the shipped recording
// and, when ../shared is beside the repository, of cryptofeed's Binance
// and Coinbase sessions (lines "TIMESTAMP: MESSAGE").
func recordedMessages(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	r, err := rec.Open(shippedRecording)
	require.NoError(t, err)
	defer func() { _ = r.Close() }()
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if !l.Out && !l.Binary {
			out["kraken"] = append(out["kraken"], l.Text)
		}
	}
	for name, path := range map[string]string{
		"binance":  "../../shared/recordings/BINANCE.ws.1.0",
		"coinbase": "../../shared/recordings/COINBASE.ws.28.0.gz",
	} {
		f, err := os.Open(path)
		if err != nil {
			continue // ../shared is not shipped with the module
		}
		var src io.Reader = f
		if strings.HasSuffix(path, ".gz") {
			z, err := gzip.NewReader(f)
			require.NoError(t, err)
			src = z
		}
		sc := bufio.NewScanner(src)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			ln := sc.Text()
			if strings.Contains(ln, " <- ") || strings.Contains(ln, " <-> ") || strings.Contains(ln, " -> ") {
				continue
			}
			if _, msg, ok := strings.Cut(ln, ": "); ok {
				out[name] = append(out[name], msg)
			}
		}
		require.NoError(t, sc.Err())
		_ = f.Close()
	}
	return out
}

// framedStream encodes msgs as a venue's frames in every shape RFC 6455
// allows a server: one frame (its minimal length), a 64-bit length where
// 7 or 16 bits would do, fragments (an empty one included) with a ping
// and a pong between them, and unsolicited pongs between messages. It
// returns the stream and where each frame ends in it.
func framedStream(msgs []string) ([]byte, []int) {
	var b []byte
	var ends []int
	add := func(f []byte) {
		b = append(b, f...)
		ends = append(ends, len(b))
	}
	for i, m := range msgs {
		switch i % 5 {
		case 0:
			a, z := m[:len(m)/3], m[len(m)/3:]
			add(wsFrame(false, 0, opText, []byte(a), 0))
			add(wsFrame(true, 0, opPing, []byte("p"), 0))
			add(wsFrame(false, 0, opCont, nil, 0))
			add(wsFrame(true, 0, opPong, nil, 0))
			add(wsFrame(true, 0, opCont, []byte(z), 0))
		case 1:
			f := []byte{0x81, 127}
			f = binary.BigEndian.AppendUint64(f, uint64(len(m)))
			add(append(f, m...))
		case 2:
			add(text(m))
			add(wsFrame(true, 0, opPong, []byte("unsolicited"), 0))
		default:
			add(text(m))
		}
	}
	return b, ends
}

// cutReader gives stream in the reads cuts say: each read ends at the
// next cut (the last at the stream's end).
type cutReader struct {
	stream []byte
	cuts   []int
	off    int
}

func (r *cutReader) Read(p []byte) (int, error) {
	if r.off >= len(r.stream) {
		return 0, io.EOF
	}
	end := len(r.stream)
	for len(r.cuts) > 0 && r.cuts[0] <= r.off {
		r.cuts = r.cuts[1:]
	}
	if len(r.cuts) > 0 {
		end = r.cuts[0]
	}
	n := copy(p, r.stream[r.off:end])
	r.off += n
	return n, nil
}

// bodyRT answers every handshake with a 101 whose body is body().
type bodyRT func() io.Reader

func (b bodyRT) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := upgradeRT{}.RoundTrip(req)
	if err == nil {
		res.Body = readOnly{b()}
	}
	return res, err
}

// The recorded sessions, framed in every shape a server may use, read
// through the frame guard with every frame cut at every byte boundary
// (one byte per read), every frame cut once at each of its first 12 bytes
// (the header, its extended length, the payload's start), and in reads of
// 3, 7 and 4097 bytes: the guard in front of coder/websocket delivers
// exactly the recorded messages, as coder/websocket alone does, and the
// stream's end after them is a clean end (io.EOF), not a cut message.
func TestS28SplitRecordedSessions(t *testing.T) {
	for name, msgs := range recordedMessages(t) {
		msgs = splitSample(msgs)
		stream, ends := framedStream(msgs)
		cuts := map[string]func() io.Reader{
			"every byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
			"with EOF":   func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
		}
		for _, n := range []int{3, 7, 4097} {
			cuts[fmt.Sprintf("reads of %d", n)] = func() io.Reader { return &cutReader{stream: stream, cuts: every(n, len(stream))} }
		}
		for k := 1; k <= 12; k++ {
			cuts[fmt.Sprintf("frames cut at %d", k)] = func() io.Reader {
				var c []int
				start := 0
				for _, e := range ends {
					if start+k < e {
						c = append(c, start+k)
					}
					c = append(c, e)
					start = e
				}
				return &cutReader{stream: stream, cuts: c}
			}
		}
		for cut, body := range cuts {
			t.Run(name+"/"+cut, func(t *testing.T) {
				got, err := readVia(t, bodyRT(body), true, -1)
				require.ErrorIs(t, err, io.EOF)
				require.NotErrorIs(t, err, ErrMessageCut)
				bare, bareErr := readVia(t, bodyRT(body), false, -1)
				require.ErrorIs(t, bareErr, io.EOF)
				require.Equal(t, len(msgs), len(got), "messages through the guard")
				require.Equal(t, msgs, got)
				require.Equal(t, bare, got, "the guard and coder/websocket alone")
			})
		}
	}
}

// splitSample returns msgs, or under the race detector (where reading a
// session's 2.3 MB one byte a read, 17 ways, through the guard and without
// it, took 10 minutes on a loaded machine) its first 300 messages and, for
// each payload length a frame header encodes differently (7 bits, 16
// bits, 64 bits: RFC 6455 5.2) that those lack, the session's first such
// message 5 times in a row, so framedStream gives it each of its 5 shapes.
// Every cut of every frame shape and every header size still runs.
func splitSample(msgs []string) []string {
	const prefix = 300
	if !raceEnabled || len(msgs) <= prefix {
		return msgs
	}
	class := func(m string) int {
		switch {
		case len(m) <= 125:
			return 0
		case len(m) <= 65535:
			return 1
		}
		return 2
	}
	out := append([]string(nil), msgs[:prefix]...)
	var seen [3]bool
	for _, m := range out {
		seen[class(m)] = true
	}
	for _, m := range msgs[prefix:] {
		if c := class(m); !seen[c] {
			seen[c] = true
			for range 5 {
				out = append(out, m)
			}
		}
	}
	return out
}

// every returns the cuts of reads of n bytes over size bytes.
func every(n, size int) []int {
	var c []int
	for i := n; i < size; i += n {
		c = append(c, i)
	}
	return c
}

// The same end to end: a venue on loopback writes the shipped session's
// first messages, framed in every shape, one byte per TCP write; the
// client delivers exactly the recorded messages, in order, on one
// connection.
func TestS28SplitWritesEndToEnd(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	msgs := recordedMessages(t)["kraken"][:300]
	stream, _ := framedStream(msgs)
	p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
		for i := range stream {
			if pc.write(stream[i:i+1]) != nil {
				return
			}
		}
		_ = pc.write(text(`{"end":1}`))
		pc.hold()
	}))
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	began := time.Now()
	h.sink.waitForWithin(t, slowPeerWait, `{"end":1}`)
	t.Logf("%d bytes a byte a write: delivered in %v", len(stream), time.Since(began))
	require.Equal(t, append(msgs, `{"end":1}`), h.sink.got())
	require.Zero(t, h.c.Stats().InvalidFrames)
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)))
	h.finish(nil, p.close)
}
