package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// A recording whose wall clock stepped forward an hour in the middle:
// `replay -paced` waits out such a gap as recorded (on the clock:
// recorder's TestS27PacedReplayMaxGap); with -max-gap it waits at most
// that (recorder.ReplayOptions.MaxGap), directly and through a served
// replay, and a negative -max-gap is refused by replay and serve.
func TestS27ReplayMaxGap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "step.jsonl")
	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueKraken, URL: "wss://ws.kraken.com"})
	require.NoError(t, err)
	base := time.Now().UnixNano()
	for i := range 6 {
		at := base + int64(i)*int64(time.Millisecond)
		if i >= 3 {
			at += int64(time.Hour)
		}
		require.True(t, rec.Record(&schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: at, Data: []byte(`{"event":"heartbeat"}`)}))
	}
	require.NoError(t, rec.Close())

	for _, direct := range []string{"-direct", "-direct=false"} {
		t.Run(direct, func(t *testing.T) {
			out, errOut, err := runCmd(t, "replay", direct, "-paced", "-max-gap", "10ms", path)
			require.NoError(t, err, errOut)
			assert.Contains(t, out, "6 frames")
		})
	}
	_, _, err = runCmd(t, "replay", "-paced", "-max-gap", "-1s", path)
	require.ErrorContains(t, err, "-max-gap -1s: must not be negative")
	_, _, err = runCmd(t, "serve", "-paced", "-max-gap", "-1s", path)
	require.ErrorContains(t, err, "-max-gap -1s: must not be negative")
}
