package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/exit"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/venuesim"
)

// cancelAtWrite is an output that ends a context at its n-th write (0:
// never) and keeps the text.
type cancelAtWrite struct {
	mu     sync.Mutex
	buf    []byte
	writes int
	at     int
	cancel context.CancelFunc
}

func (c *cancelAtWrite) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.writes == c.at {
		c.cancel()
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// Ctrl-C is a clean shutdown the user asked for: every command,
// interrupted before it begins or at its first few lines of output, ends
// with status 0 (exit.Status, which main applies), not "meltica: context
// canceled" and status 1 — as replay -paced -direct did, and tail or
// record interrupted before their first connection ("never connected …:
// wsclient: closed"). A record interrupted before any frame leaves no
// file, so the same command runs again.
func TestS25InterruptIsCleanExit(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500})
	defer venue.Close()
	dir := t.TempDir()
	file := 0
	// serve and sim print their addresses once and wait: interrupted
	// before or after that; the others print as they go.
	quiet := map[string]bool{"serve": true, "sim": true}
	cmds := map[string]func() []string{
		"tail": func() []string { return []string{"tail", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT"} },
		"record": func() []string {
			file++
			return []string{"record", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-o", filepath.Join(dir, strconv.Itoa(file)+".jsonl")}
		},
		"replay":        func() []string { return []string{"replay", "-paced", shipped} },
		"replay direct": func() []string { return []string{"replay", "-paced", "-direct", shipped} },
		"serve":         func() []string { return []string{"serve", shipped} },
		"sim":           func() []string { return []string{"sim", "-rate", "10"} },
	}
	for name, args := range cmds {
		t.Run(name, func(t *testing.T) {
			for at := range 4 { // 0: interrupted before it begins
				if quiet[name] && at > 1 {
					break
				}
				ctx, cancel := context.WithCancel(context.Background())
				if at == 0 {
					cancel()
				}
				out := &cancelAtWrite{at: at, cancel: cancel}
				a := args()
				err := run(ctx, a, out, out)
				<-ctx.Done() // every command ends on the interrupt only
				cancel()
				require.Equal(t, 0, exit.Status(ctx, err), "interrupted at write %d: %v\n%s", at, err, out.buf)
				if a[0] == "record" {
					files, _ := filepath.Glob(filepath.Join(dir, strconv.Itoa(file)+"*"))
					if len(files) > 0 {
						assert.NotContains(t, string(out.buf), "recorded 0 frames", "a file with nothing recorded is left: %v", files)
					}
				}
			}
		})
	}
}

// A recording cut mid-line (a recorder killed mid-write) is served, its
// whole lines, with a warning: serve refused it whole.
func TestS25ServeCutRecording(t *testing.T) {
	dir := t.TempDir()
	_, _, err := runCmd(t, "replay", shipped) // the shipped session is whole
	require.NoError(t, err)
	src, err := os.ReadFile(shipped)
	require.NoError(t, err)
	path := filepath.Join(dir, "cut.jsonl.zst")
	require.NoError(t, os.WriteFile(path, src[:len(src)*2/3], 0o666))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", path}, &out, &errOut) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "serving") || len(done) > 0 }, 30*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, errOut.String(), "cut short")
	assert.Regexp(t, `serving [1-9][0-9]* frames`, out.String())
	_, _, err = runCmd(t, "replay", path)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "replay reports the cut, after replaying what is whole")
}

// record writes each connection's subscription ahead of the
// connection's first frame, whatever the timing of its Connected event:
// the event reaches OnState through a queue, on another goroutine, and a
// queue full of events drops it, so the subscription line came after
// frames it caused, or never.
func TestS25RecordSubscriptionPrecedesFrames(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 5000})
	defer venue.Close()
	for i := range 5 {
		path := filepath.Join(t.TempDir(), "r"+strconv.Itoa(i)+".jsonl")
		_, _, err := runBounded(t, "record", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-n", "50", "-o", path)
		require.NoError(t, err)
		r, err := recorder.Open(path)
		require.NoError(t, err)
		subscribed := map[uint64]bool{}
		for {
			l, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			if l.Out {
				subscribed[l.Conn] = true
				continue
			}
			require.True(t, subscribed[l.Conn], "run %d: a frame of connection %d before its subscription", i, l.Conn)
		}
		r.Close()
	}
}

// sim names each simulated symbol once, as the venue makes it once.
func TestS25SimSymbolsOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &cancelAtWrite{at: 1, cancel: cancel}
	require.NoError(t, run(ctx, []string{"sim", "-symbols", "BTCUSDT,btc-usdt,ETHUSDT"}, out, out))
	assert.Contains(t, string(out.buf), "simulated venue (BTCUSDT, ETHUSDT, ")
}

// record stops, with the recorder's error, once the recording has ended
// (a rotation found its next part's name taken: recorder.ErrPartTaken):
// it went on reading the venue, its progress counting frames that were no
// longer written, until -n, -duration or Ctrl-C — a recording silently
// stalled.
func TestS25RecordStopsWhenTheRecordingEnds(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000})
	defer venue.Close()
	venue.Pause(true) // nothing to record until the trap is set
	dir := t.TempDir()
	path := filepath.Join(dir, "s.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"record", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-max-file-bytes", "2000", "-o", path}, &out, &errOut)
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(filepath.Join(dir, "s-000001.jsonl")); return err == nil }, 30*time.Second, time.Millisecond)
	// Set once the recording began (New refuses a path with a part there).
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s-000002.jsonl"), []byte("someone else's\n"), 0o666))
	venue.Pause(false)
	select {
	case err := <-done:
		require.ErrorIs(t, err, recorder.ErrPartTaken)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("record went on after its recording ended: %v\n%s\n%s", <-done, out.String(), errOut.String())
	}
}
