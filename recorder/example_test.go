package recorder_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
)

// Record two frames through the tap, then replay them through a handler.
func Example() {
	dir, _ := os.MkdirTemp("", "recorder")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "session.jsonl.zst")

	rec, err := recorder.New(path, &recorder.Options{Venue: schema.VenueKraken, URL: "wss://ws.kraken.com", Compress: true})
	if err != nil {
		panic(err)
	}
	tap := rec.Tap(nil) // normally: rec.Tap(parser.HandleFrame), given to wsclient.New
	for i, msg := range []string{`{"event":"systemStatus","status":"online"}`, `{"event":"heartbeat"}`} {
		_ = tap(context.Background(), &schema.WsFrame{ConnID: 1, Seq: uint64(i + 1), ReceivedAt: 1618678132825818800 + int64(i), Data: []byte(msg)})
	}
	if err := rec.Close(); err != nil {
		panic(err)
	}

	r, err := recorder.Open(rec.Files()...)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	st, err := recorder.Replay(context.Background(), r, func(_ context.Context, f *schema.WsFrame) error {
		fmt.Printf("%s conn %d seq %d at %d: %s\n", f.Provider, f.ConnID, f.Seq, f.ReceivedAt, f.Data)
		return nil
	}, nil)
	fmt.Println(st.Frames, "frames replayed, err", err)
	// Output:
	// kraken conn 1 seq 1 at 1618678132825818800: {"event":"systemStatus","status":"online"}
	// kraken conn 1 seq 2 at 1618678132825818801: {"event":"heartbeat"}
	// 2 frames replayed, err <nil>
}
