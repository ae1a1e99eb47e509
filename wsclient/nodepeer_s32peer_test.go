package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nodePeerDir holds the Node WebSocket server of these tests: npm ws
// (pinned in package-lock.json), a server written by someone else, where
// every other foreign-peer test writes RFC 6455 frames by hand.
const nodePeerDir = "testdata/nodepeer"

// nodePeer is testdata/nodepeer/peer.js running under node: a ws server
// on loopback that the test drives with commands on its stdin and that
// reports what it sees on its stdout (see peer.js for both).
type nodePeer struct {
	t        *testing.T
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	cancel   context.CancelFunc
	port     string
	readDone chan struct{}
	stderr   bytes.Buffer

	mu    sync.Mutex
	lines [][]string // each line's fields
	seq   int
	once  sync.Once
}

// startNodePeer starts peer.js with flags. Without node on the PATH or
// without the ws module installed (testdata/nodepeer/install.sh), the test
// is skipped, or fails when MELTICA_NODEPEER=require (CI, where both are
// installed: a skip there would hide the whole file).
func startNodePeer(t *testing.T, flags ...string) *nodePeer {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("MELTICA_NODEPEER") == "require" {
		skip = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not on the PATH (%v): the Node WebSocket peer tests need Node.js 18+", err)
	}
	if _, err := os.Stat(filepath.Join(nodePeerDir, "node_modules", "ws", "package.json")); err != nil {
		skip("npm ws is not installed: run wsclient/%s/install.sh (%v)", nodePeerDir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &nodePeer{t: t, cancel: cancel, readDone: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, node, append([]string{"peer.js"}, flags...)...)
	p.cmd.Dir = nodePeerDir
	p.cmd.Stderr = &p.stderr
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(p.close)
	go p.read(stdout)
	p.port = p.waitLine("listening", func(f []string) bool { return f[0] == "listening" })[1]
	return p
}

func (p *nodePeer) read(r io.Reader) {
	defer close(p.readDone)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		p.mu.Lock()
		p.lines = append(p.lines, f)
		p.mu.Unlock()
	}
}

// close ends the node process (its stdin closed, killed if it lingers)
// and waits for it and the reader of its stdout. It is idempotent.
func (p *nodePeer) close() {
	p.once.Do(func() {
		_ = p.stdin.Close()
		kill := time.AfterFunc(wait, p.cancel)
		<-p.readDone
		_ = p.cmd.Wait()
		kill.Stop()
		p.cancel()
		if p.t.Failed() && p.stderr.Len() > 0 {
			p.t.Logf("node peer stderr:\n%s", p.stderr.String())
		}
	})
}

func (p *nodePeer) url() string { return "ws://127.0.0.1:" + p.port + "/" }

// all returns the lines seen so far that match.
func (p *nodePeer) all(match func(f []string) bool) [][]string {
	p.mu.Lock()
	lines := p.lines[:len(p.lines):len(p.lines)]
	p.mu.Unlock()
	var got [][]string
	for _, f := range lines {
		if match(f) {
			got = append(got, f)
		}
	}
	return got
}

// nodeWait bounds the waits on the node peer: generous, for a machine
// loaded 20 times over with the race detector on.
const nodeWait = 30 * time.Second

// until waits until cond holds (evaluated once per poll, not per line).
func (p *nodePeer) until(what string, cond func() bool) {
	p.t.Helper()
	require.Eventually(p.t, cond, nodeWait, time.Millisecond, "the node peer never said %s", what)
}

// waitLine waits for a line that matches and returns the first one.
func (p *nodePeer) waitLine(what string, match func(f []string) bool) []string {
	p.t.Helper()
	var got []string
	require.Eventually(p.t, func() bool {
		if l := p.all(match); len(l) > 0 {
			got = l[0]
			return true
		}
		return false
	}, nodeWait, time.Millisecond, "the node peer never said %s", what)
	return got
}

// do runs a command on connection conn and waits until peer.js has
// handed its bytes to the kernel.
func (p *nodePeer) do(conn int, verb string, args ...string) {
	p.t.Helper()
	p.mu.Lock()
	p.seq++
	seq := strconv.Itoa(p.seq)
	p.mu.Unlock()
	line := strings.Join(append([]string{seq, strconv.Itoa(conn), verb}, args...), " ") + "\n"
	_, err := io.WriteString(p.stdin, line)
	require.NoError(p.t, err)
	f := p.waitLine("ok "+seq, func(f []string) bool { return (f[0] == "ok" || f[0] == "error") && f[1] == seq })
	require.Equal(p.t, "ok", f[0], "%s: %v", strings.TrimSpace(line), f)
}

// opened waits until connection conn is open on the peer's side.
func (p *nodePeer) opened(conn int) []string {
	p.t.Helper()
	c := strconv.Itoa(conn)
	return p.waitLine("open "+c, func(f []string) bool { return f[0] == "open" && f[1] == c })
}

// closed waits for connection conn's close on the peer's side and returns
// the code and reason the peer got.
func (p *nodePeer) closed(conn int) (int, string) {
	p.t.Helper()
	c := strconv.Itoa(conn)
	f := p.waitLine("close "+c, func(f []string) bool { return f[0] == "close" && f[1] == c })
	code, err := strconv.Atoi(f[2])
	require.NoError(p.t, err)
	reason := ""
	if len(f) > 3 {
		reason = unhex(p.t, f[3])
	}
	return code, reason
}

// count counts the lines of kind (ping, pong, message) on connection conn.
func (p *nodePeer) count(kind string, conn int) int {
	c := strconv.Itoa(conn)
	return len(p.all(func(f []string) bool { return f[0] == kind && f[1] == c }))
}

func hx(s string) string { return hex.EncodeToString([]byte(s)) }

func unhex(t *testing.T, s string) string {
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return string(b)
}
