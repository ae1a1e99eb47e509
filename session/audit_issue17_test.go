package session

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Audit of issue 17 ("a clock offset to the venue's server time used when
// signing") against HELPERS' rules "every parser has a fuzz target with a
// seed corpus" and "nothing on venue input may panic": the five venues'
// server-time answers are venue input, decoded by goccy outside normalize's
// recovering parser boundary. Whatever the answer, each parser gives a time
// or an error and never panics; so does answerID, which reads the id of a
// WS-API answer the parser refused. (Internal: the parsers are unexported.)
func FuzzServerTimeAnswers(f *testing.F) {
	for _, s := range []string{
		`{"serverTime":1499827319559}`,
		`{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}`,
		`{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},"retExtInfo":{},"time":1688639403423}`,
		`{"error":[],"result":{"unixtime":1688669448,"rfc1123":"Thu, 06 Jul 23 18:50:48 +0000"}}`,
		`{"iso":"2023-07-06T18:50:48.123Z","epochSeconds":"1688669448","epochMillis":"1688669448123"}`,
		`{"serverTime":"x"}`, `{"data":[]}`, `{"result":{"timeNano":"-1"}}`, `{"result":{"unixtime":9223372036854775807}}`,
		`[`, ``, `null`, `{"data":[{"ts":null}]}`, `{"id":7,"status":400,"error":{"code":-1100}}`, `{"id":"x"}`,
	} {
		f.Add([]byte(s))
	}
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken, schema.VenueCoinbase}
	for _, v := range venues {
		if venueTimes[v].parse == nil {
			f.Fatalf("no server-time parser for %v", v)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range venues {
			_, _ = venueTimes[v].parse(data)
		}
		_ = answerID(data) // the WS-API answer id of a message the parser refused
	})
}

// Audit of issue 17 (private channels with Config.Key) by the rule issue 4
// set for Credentials ("print no secret; a test proves it"): the venues'
// keys print redacted through every fmt verb; through slog, whose JSON
// handler encodes a value with encoding/json unless it is a LogValuer, they
// print their secret fields.
func TestAuditKeysNeverPrintTheSecret(t *testing.T) {
	const apiKey, secret = "APIKEY-abcdefghijklmnop", "SECRET-qrstuvwxyz0123456789"
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	keys := map[string]Key{
		"okx":      &OKXKey{APIKey: apiKey, Passphrase: secret, Secret: []byte(secret)},
		"bybit":    &BybitKey{APIKey: apiKey, Secret: []byte(secret)},
		"kraken":   &KrakenKey{APIKey: apiKey, Secret: secret},
		"coinbase": &CoinbaseKey{Name: apiKey, Key: ec},
	}
	secrets := []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), fmt.Sprintf("%x", secret), ec.D.String()}
	t.Run("fmt", func(t *testing.T) {
		for name, k := range keys {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
				s := fmt.Sprintf(verb, k) + fmt.Sprintf(verb, Config{Key: k})
				for _, sec := range secrets {
					assert.NotContains(t, s, sec, "%s %s", name, verb)
				}
			}
		}
	})
	t.Run("slog", func(t *testing.T) {
		for name, k := range keys {
			var b bytes.Buffer
			slog.New(slog.NewJSONHandler(&b, nil)).Info("start", "key", k)
			slog.New(slog.NewTextHandler(&b, nil)).Info("start", "key", k)
			slog.New(slog.NewJSONHandler(&b, nil)).Info("start", "cfg", Config{Key: k})
			slog.New(slog.NewTextHandler(&b, nil)).Info("start", "cfg", Config{Key: k})
			for _, sec := range secrets {
				assert.NotContains(t, b.String(), sec, name)
			}
		}
	})
}
