package wsclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// readerConn is a net.Conn whose reads come from r, at most max bytes each.
type readerConn struct {
	net.Conn
	r   io.Reader
	max int
}

func (c *readerConn) Read(p []byte) (int, error) {
	if c.max > 0 && len(p) > c.max {
		p = p[:c.max]
	}
	return c.r.Read(p)
}

const answer101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"

// guardRead reads stream through a guard, max bytes per socket read, and
// returns what the guard let through, its data byte count and its error.
func guardRead(stream []byte, max int) ([]byte, uint64, error) {
	g := &guard{Conn: &readerConn{r: bytes.NewReader(stream), max: max}}
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := g.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, g.dataRx.Load(), nil
		}
		if err != nil {
			return out, g.dataRx.Load(), err
		}
	}
}

// The guard follows frames of every length encoding, control frames
// between fragments and a head ended by bare LFs, however the bytes are
// cut into reads: it passes every byte through, counts exactly the data
// payload bytes, and stops a masked frame at its first byte, letting the
// frames before it through.
func TestGuardFollowsFrames(t *testing.T) {
	var frames []byte
	var data uint64
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		frames = append(frames, wsFrame(true, 0, opBinary, bytes.Repeat([]byte{0x82}, n), 0)...)
		data += uint64(n)
	}
	frames = append(frames, wsFrame(false, 0, opText, []byte("ab"), 0)...)
	frames = append(frames, wsFrame(true, 0, opPing, bytes.Repeat([]byte{0x89}, 125), 0)...)
	frames = append(frames, wsFrame(true, 0, opPong, nil, 0)...)
	frames = append(frames, wsFrame(true, 0, opCont, []byte("cd"), 0)...)
	frames = append(frames, closeFrame(1000, "bye")...)
	data += 4
	masked := wsFrame(true, 0, opText, []byte("m"), 0x01020304)
	for _, head := range []string{answer101, strings.ReplaceAll(answer101, "\r\n", "\n")} {
		for _, max := range []int{0, 1, 2, 3, 7, 100, 4096} {
			stream := append([]byte(head), frames...)
			out, rx, err := guardRead(stream, max)
			require.NoError(t, err, "max %d", max)
			require.True(t, bytes.Equal(stream, out), "max %d: bytes changed", max)
			require.Equal(t, data, rx, "max %d", max)

			bad := append(append(bytes.Clone(stream), masked...), text("after")...)
			out, rx, err = guardRead(bad, max)
			require.ErrorIs(t, err, ErrMaskedFrame, "max %d", max)
			// Everything before the masked frame, and of it at most the
			// first header byte, when the mask bit comes in a later read.
			require.True(t, bytes.Equal(stream, out) || bytes.Equal(append(bytes.Clone(stream), masked[0]), out),
				"max %d: %d bytes let through of %d before the masked frame", max, len(out), len(stream))
			require.Equal(t, data, rx)
		}
	}
}

// A stream that ends inside a message ends with io.ErrUnexpectedEOF, not
// io.EOF: coder/websocket would take an EOF between two fragments for the
// end of the message. At a message boundary it ends with io.EOF.
func TestGuardEOFInsideMessage(t *testing.T) {
	frag := wsFrame(false, 0, opText, []byte(`{"cut":`), 0)
	whole := text(`{"n":1}`)
	for _, tc := range []struct {
		name   string
		stream []byte
		cut    bool
	}{
		{"between messages", whole, false},
		{"after a ping inside none", append(bytes.Clone(whole), wsFrame(true, 0, opPing, nil, 0)...), false},
		{"between fragments", frag, true},
		{"after a ping between fragments", append(bytes.Clone(frag), wsFrame(true, 0, opPing, []byte("p"), 0)...), true},
		{"in a header", whole[:1], true},
		{"in a payload", whole[:4], true},
	} {
		for _, max := range []int{0, 1} {
			_, _, err := guardRead(append([]byte(answer101), tc.stream...), max)
			if tc.cut {
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "%s, max %d", tc.name, max)
			} else {
				require.NoError(t, err, "%s, max %d", tc.name, max)
			}
		}
	}
}

// A refused upgrade (any status but 101) is not followed: its body may hold
// anything, a masked-looking byte included.
func TestGuardIgnoresRefusal(t *testing.T) {
	stream := []byte("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\n\x81\xff\x00\x00")
	out, rx, err := guardRead(stream, 3)
	require.NoError(t, err)
	require.Equal(t, stream, out)
	require.Zero(t, rx)
}

// FuzzGuard: no input panics the guard, and how the bytes are cut into
// reads changes nothing of what it lets through, counts or refuses.
func FuzzGuard(f *testing.F) {
	f.Add([]byte(answer101+string(text(`{"a":1}`))), uint8(1))
	f.Add([]byte(answer101+string(wsFrame(true, 0, opText, []byte("x"), 7))), uint8(2))
	f.Add([]byte(answer101+"\x81\x7f\x00\x00\x00\x00\x00\x00\x00\x02ab"), uint8(3))
	f.Add([]byte(answer101+"\x81\x7f\xff\xff\xff\xff\xff\xff\xff\xffab"), uint8(5))
	f.Add([]byte("HTTP/1.1 503 Busy\r\n\r\n\x81\x81"), uint8(4))
	f.Add([]byte("\n\n\n"), uint8(1))
	f.Fuzz(func(t *testing.T, stream []byte, max uint8) {
		out1, rx1, err1 := guardRead(stream, 0)
		out2, rx2, err2 := guardRead(stream, int(max%64)+1)
		require.Equal(t, errors.Is(err1, ErrMaskedFrame), errors.Is(err2, ErrMaskedFrame))
		require.Equal(t, rx1, rx2)
		if err1 == nil {
			require.True(t, bytes.Equal(out1, out2))
			require.True(t, bytes.Equal(stream, out1), "every byte let through")
		} else {
			require.LessOrEqual(t, len(out2)-len(out1), 1, "at most a header byte more when cut")
		}
		require.LessOrEqual(t, rx1, uint64(len(stream)))
	})
}

// BenchmarkGuardScan is the guard's cost per socket read of 4 KiB holding
// frames of 150 B (27 headers), the bytes the reader then copies anyway.
//
//	go test -run '^$' -bench BenchmarkGuardScan ./wsclient/
func BenchmarkGuardScan(b *testing.B) {
	block := encodeFrames(27, 150) // 27 frames of 152 B: 4104 B
	g := &guard{st: gHeader}
	b.SetBytes(int64(len(block)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.scan(block); !ok {
			b.Fatal("masked")
		}
	}
}

// The guarded transport over TLS: the guard sits above TLS (it sees frames,
// not ciphertext), the handshake is HTTP/1.1 even when the server offers
// HTTP/2, and a masked frame inside TLS is refused.
func TestGuardOverTLS(t *testing.T) {
	base := goleak.IgnoreCurrent()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			acceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
		_, _ = brw.Write(text(`{"tls":1}`))
		if r.URL.Query().Get("masked") != "" {
			_, _ = brw.Write(wsFrame(true, 0, opText, []byte(`{"masked":1}`), 0x01020304))
		}
		_ = brw.Flush()
		_, _ = io.Copy(io.Discard, conn) // until the client goes
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	leaks := goleak.IgnoreCurrent() // the server's: it serves both rounds
	for _, masked := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()}
		guardTransport(tr)
		opts := peerOptions()
		opts.Subscriptions = nil
		opts.HTTPClient = &http.Client{Transport: tr}
		url := "wss" + strings.TrimPrefix(srv.URL, "https") + "/ws"
		if masked {
			url += "?masked=1"
		}
		h := start(t, url, opts, &sink{}, leaks)
		h.sink.waitFor(t, `{"tls":1}`)
		if masked {
			lost := h.rec.waitFor(t, "disconnected", isState(schema.ConnDisconnected))
			require.ErrorIs(t, lost.Err, ErrMaskedFrame)
			require.NotContains(t, h.sink.got(), `{"masked":1}`)
		} else {
			cn := h.live()
			require.NotNil(t, cn)
			require.NotNil(t, cn.guard, "the handshake's connection is guarded")
			require.EqualValues(t, len(`{"tls":1}`), cn.dataRx())
		}
		h.finish(nil, tr.CloseIdleConnections)
	}
	srv.Close()
	goleak.VerifyNone(t, base)
}

// BenchmarkReadGuard is the read path of BenchmarkRead (150 B frames) with
// the client's own, guarded transport and with a plain one, side by side:
// the guard's cost per frame on the whole path. Compare within one run:
//
//	go test -run '^$' -bench BenchmarkReadGuard -count 6 ./wsclient/ > guard.txt
//	benchstat -col /impl guard.txt
func BenchmarkReadGuard(b *testing.B) {
	for _, impl := range []string{"plain", "guarded"} {
		b.Run("impl="+impl, func(b *testing.B) {
			k := newCounter()
			r := newRawVenue(b)
			opts := benchOptions()
			if impl == "plain" {
				opts.HTTPClient = &http.Client{Transport: &http.Transport{}}
			}
			c, err := New(r.v.url(), k.handle, opts)
			require.NoError(b, err)
			runErr := make(chan error, 1)
			go func() { runErr <- c.Run(context.Background()) }()
			r.conn = <-r.raw
			const per = 64
			block := encodeFrames(per, 150)
			r.pump(b, k, block, per, 10*per)
			b.SetBytes(150)
			b.ReportAllocs()
			b.ResetTimer()
			r.pump(b, k, block, per, b.N)
			b.StopTimer()
			stopRaw(b, r, c, runErr)
		})
	}
}
