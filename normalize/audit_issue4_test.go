package normalize_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// Audit of issue 4: "Credentials are a type whose String, GoString and
// %v/%+v formatting print no secret; a test proves it" — and its doc's
// "String, GoString, every fmt verb, slog and JSON show the key's first
// characters and the signer's kind only": the value and the pointer, alone
// and inside a host's struct, through every verb, both slog handlers and
// goccy's encoder.
func TestAuditCredentialsNeverPrintTheSecret(t *testing.T) {
	const apiKey, secret = "APIKEY-abcdefghijklmnop", "SECRET-qrstuvwxyz0123456789"
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	for name, c := range map[string]*normalize.Credentials{
		"hmac":    normalize.NewCredentials(apiKey, normalize.NewHMACSigner([]byte(secret))),
		"ed25519": normalize.NewCredentials(apiKey, normalize.NewEd25519Signer(ed25519.NewKeyFromSeed(seed))),
	} {
		type hostConfig struct {
			Name  string
			Creds *normalize.Credentials
			Value normalize.Credentials
		}
		cfg := hostConfig{Name: "bot", Creds: c, Value: *c}
		var out []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c), fmt.Sprintf(verb, cfg))
		}
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var b bytes.Buffer
			slog.New(h(&b)).Info("start", "creds", c, "value", *c, "cfg", cfg)
			out = append(out, b.String())
		}
		j, err := json.Marshal(cfg)
		require.NoError(t, err)
		out = append(out, string(j))
		hexSecret := fmt.Sprintf("%x", secret)
		for _, s := range out {
			assert.NotContains(t, s, secret, name)
			assert.NotContains(t, s, hexSecret, name)
			assert.NotContains(t, s, apiKey, "%s: the whole API key", name)
			assert.NotContains(t, s, "07070707", "%s: the Ed25519 seed", name)
		}
	}
}
