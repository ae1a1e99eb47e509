package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/benchmarks/internal/rawws"
)

// The sender is this same program run as a child process (senderEnv set),
// so that its pacing and writing never compete with the measured pipeline
// for the Go scheduler, the GC or the heap. It talks to its parent in
// lines:
//
//	child → parent  "url ws://127.0.0.1:N/"   once listening
//	child → parent  "connected"               on every accepted connection
//	parent → child  "start <unix ns>"         when message 0 is due
//	parent closes stdin                        to stop it
//	child → parent  "conns <n>"               then exits
//
// Message i is due at start + i/rate. The sender waits for that instant
// precisely (see waitUntil), then stamps the message with the wall clock
// just before writing it.
const senderEnv = "MELTICA_LATENCY_SENDER"

// senderMain runs the sender; it returns the process exit status.
func senderMain(args []string, stdin io.Reader, stdout io.Writer) int {
	fs := flag.NewFlagSet("sender", flag.ContinueOnError)
	rate := fs.Int("rate", 1000, "messages per second")
	total := fs.Uint64("count", 1000, "messages to send")
	spin := fs.Duration("spin", 100*time.Microsecond, "how long before a message is due the sender stops sleeping and yields the CPU until it is due")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var outMu sync.Mutex
	say := func(format string, a ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, format+"\n", a...)
	}
	interval := time.Second / time.Duration(*rate)
	var (
		startNs atomic.Int64
		started = make(chan struct{})
		quit    = make(chan struct{})
		next    atomic.Uint64 // first message not yet written, across connections
		conns   atomic.Int64
	)
	go func() {
		sc := bufio.NewScanner(stdin)
		once := sync.Once{}
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "start "); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					once.Do(func() { startNs.Store(n); close(started) })
				}
			}
		}
		close(quit)
	}()
	srv := rawws.Start(func(conn net.Conn, w *bufio.Writer) {
		conns.Add(1)
		say("connected")
		select {
		case <-started:
		case <-quit:
			return
		}
		paced(w, &next, *total, startNs.Load(), interval, *spin)
		<-quit // keep the connection open until the parent is done
	})
	say("url %s", srv.URL())
	<-quit
	srv.Close()
	say("conns %d", conns.Load())
	return 0
}

// paced writes messages next… total-1 to w, each at its due time. The
// schedule is turned into monotonic instants once, so a wall-clock step
// cannot disturb the pacing; only the stamps are wall-clock (they are
// compared with the receiver's wall clock, the same clock on one machine).
// A message is flushed on its own unless the next one is already due, so
// a sender that fell behind catches up in batches of at most 4 KiB.
func paced(w *bufio.Writer, next *atomic.Uint64, total uint64, startNs int64, interval, spin time.Duration) {
	lockThread()
	base := time.Now()
	origin := base.Add(time.Duration(startNs - base.UnixNano())) // the start as a monotonic instant
	var payload, frame []byte
	for i := next.Load(); i < total; i++ {
		due := origin.Add(time.Duration(i) * interval)
		if time.Until(due) > 0 {
			if w.Buffered() > 0 && w.Flush() != nil {
				return
			}
			waitUntil(due, spin)
		}
		now := time.Now()
		payload = appendTrade(payload[:0], i, startNs/1e6+int64(time.Duration(i)*interval/time.Millisecond), now.UnixNano())
		frame = rawws.AppendFrame(frame[:0], payload)
		if _, err := w.Write(frame); err != nil {
			return
		}
		next.Store(i + 1)
		if w.Buffered() >= 4<<10 || time.Until(origin.Add(time.Duration(i+1)*interval)) > 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
	_ = w.Flush()
}

// appendTrade appends a Binance combined-stream trade (the shape of
// corpus.Messages[0]) for message id: trade id "t" is id, event and trade
// times "E"/"T" are its due time in ms, and the quantity "q" is the send
// stamp in Unix seconds with nine decimals, so that the canonical event
// keeps it exactly (Trade.Qty's mantissa is the send time in Unix ns).
func appendTrade(b []byte, id uint64, dueMs, sentNs int64) []byte {
	b = append(b, `{"stream":"btcusdt@trade","data":{"e":"trade","E":`...)
	b = strconv.AppendInt(b, dueMs, 10)
	b = append(b, `,"s":"BTCUSDT","t":`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `,"p":"67321.45000000","q":"`...)
	b = strconv.AppendInt(b, sentNs/1e9, 10)
	frac := sentNs % 1e9
	b = append(b, '.')
	for d := int64(1e8); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	b = append(b, `","T":`...)
	b = strconv.AppendInt(b, dueMs, 10)
	return append(b, `,"m":true,"M":true}}`...)
}

// sender is the parent's handle on a sender process.
type sender struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	url   string
	done  chan struct{}
}

// startSender starts the sender process and waits for its address.
func startSender(rate int, total uint64, spin time.Duration) (*sender, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-rate", strconv.Itoa(rate), "-count", strconv.FormatUint(total, 10), "-spin", spin.String())
	cmd.Env = append(os.Environ(), senderEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &sender{cmd: cmd, stdin: stdin, lines: make(chan string, 16), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	line, err := s.expect("url ", 30*time.Second)
	if err != nil {
		_, _ = s.stop()
		return nil, err
	}
	s.url = line
	return s, nil
}

// expect returns the rest of the next line that starts with prefix,
// skipping others.
func (s *sender) expect(prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return "", errors.New("sender: exited")
			}
			if v, found := strings.CutPrefix(line, prefix); found {
				return v, nil
			}
		case <-t.C:
			return "", fmt.Errorf("sender: no %q line within %s", strings.TrimSpace(prefix), timeout)
		}
	}
}

// begin tells the sender that message 0 is due at start.
func (s *sender) begin(start time.Time) error {
	_, err := fmt.Fprintf(s.stdin, "start %d\n", start.UnixNano())
	return err
}

// stop ends the sender and returns how many connections it accepted.
func (s *sender) stop() (int64, error) {
	_ = s.stdin.Close()
	var conns int64
	for line := range s.lines {
		if v, ok := strings.CutPrefix(line, "conns "); ok {
			conns, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	<-s.done
	return conns, s.cmd.Wait()
}
