package normalize

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func TestAlignKey(t *testing.T) {
	events := pool.New("align", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	kraken := NewKraken(events, SinkFunc(nil), nil)
	tests := []struct {
		name, frame, want string
		nilKey            bool
	}{
		{name: "v1 trade less its channelID", frame: `[993,[["354.11","0.89","1618678142.557535","s","l",""]],"trade","XMR/USD"]`,
			want: `,[["354.11","0.89","1618678142.557535","s","l",""]],"trade","XMR/USD"]`},
		{name: "v1 book update as two objects", frame: ` [ 42 , {"a":[["1","2","3"]]},{"b":[["1","2","3"]],"c":"7"},"book-10","XBT/USD"]`,
			want: ` , {"a":[["1","2","3"]]},{"b":[["1","2","3"]],"c":"7"},"book-10","XBT/USD"]`},
		{name: "v1 heartbeat", frame: `{"event":"heartbeat"}`, nilKey: true},
		{name: "v1 systemStatus", frame: `{"connectionID":8628615390848610000,"event":"systemStatus","status":"online","version":"1.0.0"}`, nilKey: true},
		{name: "v1 subscriptionStatus", frame: `{"channelID":10001,"channelName":"trade","event":"subscriptionStatus","pair":"XBT/EUR","status":"subscribed","subscription":{"name":"trade"}}`, nilKey: true},
		{name: "v2 heartbeat", frame: `{"channel":"heartbeat"}`, nilKey: true},
		{name: "v2 status", frame: `{"channel":"status","data":[{"connection_id":1,"system":"online"}],"type":"update"}`, nilKey: true},
		{name: "v2 method response", frame: `{"method":"subscribe","result":{"channel":"trade"},"success":true}`, nilKey: true},
		{name: "v2 trade: the whole frame", frame: `{"channel":"trade","type":"update","data":[]}`, want: `{"channel":"trade","type":"update","data":[]}`},
		{name: "junk", frame: `[`, nilKey: true},
		{name: "empty", frame: ` `, nilKey: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kraken.AlignKey([]byte(tt.frame))
			if tt.nilKey {
				require.Nil(t, k)
				return
			}
			require.Equal(t, tt.want, string(k))
		})
	}
	for _, p := range []*Parser{NewBinance(events, SinkFunc(nil), nil), NewCoinbase(events, SinkFunc(nil), nil), NewOKX(events, SinkFunc(nil), nil), NewBybit(events, SinkFunc(nil), nil)} {
		// A frame that is no venue's data is no key (align_s28align_test.go).
		require.Nil(t, p.AlignKey([]byte(`{"any":"frame"}`)), p.Venue())
	}
}

// Whatever the frame, Kraken's AlignKey does not panic and returns nil, the
// frame, or a part of the frame that ends it.
func FuzzKrakenAlignKey(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sharedVenues, "kraken_*"))
	more, _ := filepath.Glob(filepath.Join("testdata", "kraken", "*.json"))
	for _, path := range append(files, more...) {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`[1,{"a":[]},"book-10","XBT/USD"]`))
	f.Add([]byte(`{"event":"heartbeat"}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		k := krakenAlignKey(frame)
		if k != nil && !bytes.HasSuffix(frame, k) {
			t.Fatalf("key %q is not the end of %q", k, frame)
		}
	})
}
