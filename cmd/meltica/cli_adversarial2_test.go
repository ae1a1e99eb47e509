package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/venuesim"
)

// A record refused for its flags (no symbol, a channel the venue cannot
// subscribe) touches no file: an earlier recording of the same name is
// still whole afterwards, and no empty recording is left behind.
func TestAdv2RefusedRecordKeepsTheFile(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "session.jsonl")
	const earlier = "an earlier recording\n"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no symbols", []string{"record", "-venue", "binance", "-o", old}, "-symbols"},
		{"blank symbols", []string{"record", "-venue", "binance", "-symbols", " , ", "-o", old}, "-symbols"},
		{"bad channel", []string{"record", "-venue", "kraken-v1", "-symbols", "XBT/USD", "-channel", "book-deep", "-o", old}, "depth is not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(old, []byte(earlier), 0o600))
			fresh := filepath.Join(dir, "fresh-"+strings.ReplaceAll(tc.name, " ", "-")+".jsonl")
			for _, path := range []string{old, fresh} {
				args := append([]string(nil), tc.args...)
				args[len(args)-1] = path
				out, _, err := runBounded(t, args...)
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				assert.NotContains(t, out, "recorded", "nothing was recorded")
			}
			got, err := os.ReadFile(old)
			require.NoError(t, err)
			assert.Equal(t, earlier, string(got), "the earlier recording is untouched")
			_, err = os.Stat(fresh)
			assert.True(t, errors.Is(err, os.ErrNotExist), "no file left behind")
		})
	}
}

// The real command, Ctrl-C (SIGINT) in the middle of a recording: it ends
// on its own with exit status 0, says how many frames it recorded, and the
// file holds exactly those, whole, header first — nothing lost in a buffer,
// no torn last line.
func TestAdv2SigintFlushesRecording(t *testing.T) {
	if args := os.Getenv("MELTICA_CLI_ARGS"); args != "" {
		// The child: the command's own main, signal handling included.
		os.Args = append([]string{"meltica"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000})
	defer venue.Close()
	for _, name := range []string{"s.jsonl", "s.jsonl.zst"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			args := []string{"record", "-venue", "binance", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-channel", "trade", "-o", path}
			cmd := exec.Command(os.Args[0], "-test.run=^TestAdv2SigintFlushesRecording$")
			cmd.Env = append(os.Environ(), "MELTICA_CLI_ARGS="+strings.Join(args, "\x1f"))
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			var stdout syncBuffer
			cmd.Stdout = &stdout
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			progress := make(chan struct{})
			var errOut syncBuffer
			go func() {
				// The progress line ("\rrecording N frames …") says frames
				// reached the recorder.
				br := bufio.NewReader(stderr)
				seen := false
				for {
					b, err := br.ReadString('\r')
					_, _ = errOut.Write([]byte(b))
					if !seen && strings.Contains(b, "recording ") {
						seen = true
						close(progress)
					}
					if err != nil {
						exited <- cmd.Wait()
						return
					}
				}
			}()
			select {
			case <-progress:
			case err := <-exited:
				t.Fatalf("record ended before any frame: %v\n%s", err, errOut.String())
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("no frame recorded within a minute\n%s", errOut.String())
			}
			require.NoError(t, cmd.Process.Signal(os.Interrupt))
			select {
			case err := <-exited:
				require.NoError(t, err, "exit status 0 after Ctrl-C\n%s", errOut.String())
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("record did not end within a minute of SIGINT\n%s", errOut.String())
			}
			m := regexp.MustCompile(`recorded (\d+) frames \(\d+ bytes, 0 dropped\) to (\S+)`).FindStringSubmatch(stdout.String())
			require.NotNil(t, m, "stdout: %s", stdout.String())
			n, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			require.Positive(t, n)
			assert.Equal(t, path, m[2])

			r, err := recorder.Open(path)
			require.NoError(t, err)
			defer r.Close()
			assert.Equal(t, "binance", r.Header().Venue)
			frames, sent := 0, 0
			for {
				l, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err, "after %d frames", frames)
				if l.Out {
					sent++ // the subscription
					continue
				}
				frames++
			}
			assert.Equal(t, 1, sent, "the subscription is recorded once")
			assert.Equal(t, n, frames, "the file holds every frame the command said it recorded")
		})
	}
}

// Whatever file replay or serve is given — empty, a directory, random
// bytes, a recording cut anywhere — it ends on its own with an error (exit
// status 1), never a panic.
func TestAdv2ReplayAnyFile(t *testing.T) {
	dir := t.TempDir()
	full, err := os.ReadFile(shipped)
	require.NoError(t, err)
	files := map[string][]byte{
		"empty":       nil,
		"newline":     []byte("\n"),
		"zstd magic":  {0x28, 0xb5, 0x2f, 0xfd},
		"cut header":  full[:40],
		"json":        []byte(`{"format":"meltica.recording","version":1,"venue":"nowhere","t":0}` + "\n"),
		"not json":    []byte(`{"format":"meltica.recording","version":1,"venue":"kraken","t":0}` + "\n{\n"),
		"version 2":   []byte(`{"format":"meltica.recording","version":2,"venue":"kraken","t":0}` + "\n"),
		"gzip":        {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3},
		"a directory": nil,
	}
	for name, data := range files {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if name == "a directory" {
			require.NoError(t, os.Mkdir(path, 0o700))
		} else {
			require.NoError(t, os.WriteFile(path, data, 0o600))
		}
		cmds := [][]string{{"replay", path}, {"replay", "-direct", path}, {"serve", path}}
		if name == "json" {
			cmds = cmds[:2] // a valid recording of no frame: serve serves it until interrupted
		}
		for _, args := range cmds {
			t.Run(name+"/"+strings.Join(args[:len(args)-1], " "), func(t *testing.T) {
				_, _, err := runBounded(t, args...)
				require.Error(t, err)
			})
		}
	}
}

// record -max-file-bytes: "rotate after this many bytes of lines per
// file": the files it lists, each no larger than the limit plus one line,
// replay in order to every frame it recorded.
func TestAdv2RecordRotatesAndReplays(t *testing.T) {
	srv, err := venuesim.StartReplay([]string{shipped}, nil)
	require.NoError(t, err)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "rot.jsonl")
	out, _, err := runBounded(t, "record", "-venue", "kraken-v1", "-url", srv.URL(), "-symbols", "XMR/USD", "-channel", "book-1000", "-o", path, "-n", "400", "-max-file-bytes", "60000")
	require.NoError(t, err)
	m := regexp.MustCompile(`recorded 400 frames \(\d+ bytes, 0 dropped\) to (.+)\n`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	files := strings.Fields(m[1])
	require.Greater(t, len(files), 1, "rotated")
	for i, f := range files {
		assert.Equal(t, filepath.Join(filepath.Dir(path), "rot-"+fmt.Sprintf("%06d", i+1)+".jsonl"), f)
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
		before := len(data) - len(lines[len(lines)-1]) - 1
		assert.Less(t, before, 60000, "%s: rotated once its lines reached the limit, not later", f)
		if i < len(files)-1 {
			assert.GreaterOrEqual(t, len(data), 60000, "%s: not rotated before the limit", f)
		}
	}
	out, _, err = runBounded(t, append([]string{"replay", "-direct"}, files...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "(kraken-v1), 400 frames")
}

// -duration ends tail and record on their own (3 s: a run that never
// connects is an error now, and a loaded CI box once took longer than
// 300 ms to connect), exit status 0, record
// with every frame it counted in the file; replay -events prints the
// events, -v logs state changes, -venue overrides the header; a -depth
// other than the subscribed one keeps every book from going live, so no
// checksum is verified: replay says so and fails (exit status 1) instead of
// summing up 4269 unchecked updates as a success.
func TestAdv2DurationEventsVenueDepth(t *testing.T) {
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500})
	defer venue.Close()
	path := filepath.Join(t.TempDir(), "d.jsonl.zst")
	out, _, err := runBounded(t, "record", "-venue", "binance", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-o", path, "-duration", "3s")
	require.NoError(t, err)
	m := regexp.MustCompile(`recorded (\d+) frames`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	r, err := recorder.Open(path)
	require.NoError(t, err)
	n := 0
	for {
		l, err := r.Next()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		if !l.Out {
			n++
		}
	}
	require.NoError(t, r.Close())
	assert.Equal(t, m[1], strconv.Itoa(n))

	_, _, err = runBounded(t, "tail", "-venue", "binance", "-url", venue.CombinedURL(), "-symbols", "BTCUSDT", "-duration", "3s")
	require.NoError(t, err)

	out, errOut, err := runBounded(t, "replay", "-direct", "-events", "-v", shipped)
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^\S+ kraken XMR-USD +book_update `, out, "-events prints events")
	assert.Contains(t, errOut, "level=", "-v logs")

	_, _, err = runBounded(t, "replay", "-direct", "-venue", "kraken", shipped)
	require.NoError(t, err, "-venue kraken (v2) on a v1 session: other checksums, but it runs")
	_, _, err = runBounded(t, "replay", "-direct", "-depth", "10", shipped)
	require.ErrorContains(t, err, "no venue checksum verified (4269 not checked, 0 of 10 books live)")
}

// A recording made by record says what was asked: the subscription sent
// on the connection is in it (a sent line, which replays skip), so the
// depth a Kraken book was subscribed at — what replay -depth needs — can
// be read from the file.
func TestAdv2RecordKeepsTheSubscription(t *testing.T) {
	srv, err := venuesim.StartReplay([]string{shipped}, nil)
	require.NoError(t, err)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "s.jsonl")
	_, _, err = runBounded(t, "record", "-venue", "kraken-v1", "-url", srv.URL(), "-symbols", "XMR/USD", "-channel", "book-1000", "-o", path, "-n", "20")
	require.NoError(t, err)
	r, err := recorder.Open(path)
	require.NoError(t, err)
	defer r.Close()
	var sent []string
	frames := 0
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if l.Out {
			sent = append(sent, l.Text)
			assert.Equal(t, uint64(1), l.Conn)
			continue
		}
		frames++
	}
	assert.Equal(t, 20, frames)
	require.Len(t, sent, 1)
	assert.JSONEq(t, `{"event":"subscribe","pair":["XMR/USD"],"subscription":{"name":"book","depth":1000}}`, sent[0])
}
