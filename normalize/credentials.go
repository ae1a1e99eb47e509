package normalize

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
)

// Signer signs request payloads for a venue. Implementations must be safe
// for concurrent use and must not print their key (see [Credentials]).
type Signer interface {
	// AppendSignature appends the signature of payload to dst, encoded as
	// the venue expects, and returns the extended slice.
	AppendSignature(dst, payload []byte) ([]byte, error)
}

// NewHMACSigner returns a Signer that appends the hex HMAC-SHA256 of the
// payload under secret (Binance "HMAC" API keys). It copies secret.
func NewHMACSigner(secret []byte) Signer {
	return hmacSigner{secret: append([]byte(nil), secret...)}
}

// NewEd25519Signer returns a Signer that appends the base64 Ed25519
// signature of the payload (Binance "Ed25519" API keys, the kind the WS-API
// prefers). It panics when key has the wrong length.
func NewEd25519Signer(key ed25519.PrivateKey) Signer {
	if len(key) != ed25519.PrivateKeySize {
		panic(fmt.Sprintf("normalize: Ed25519 private key must be %d bytes, got %d", ed25519.PrivateKeySize, len(key)))
	}
	return ed25519Signer{key: append(ed25519.PrivateKey(nil), key...)}
}

type hmacSigner struct{ secret []byte }

func (s hmacSigner) AppendSignature(dst, payload []byte) ([]byte, error) {
	m := hmac.New(sha256.New, s.secret)
	m.Write(payload)
	var sum [sha256.Size]byte
	return hex.AppendEncode(dst, m.Sum(sum[:0])), nil
}

func (hmacSigner) String() string               { return "HMAC-SHA256(redacted)" }
func (s hmacSigner) GoString() string           { return s.String() }
func (s hmacSigner) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

type ed25519Signer struct{ key ed25519.PrivateKey }

func (s ed25519Signer) AppendSignature(dst, payload []byte) ([]byte, error) {
	return base64.StdEncoding.AppendEncode(dst, ed25519.Sign(s.key, payload)), nil
}

func (ed25519Signer) String() string               { return "Ed25519(redacted)" }
func (s ed25519Signer) GoString() string           { return s.String() }
func (s ed25519Signer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Credentials are an API key and the Signer holding its secret. They never
// print the secret: String, GoString, every fmt verb, slog and JSON show the
// key's first characters and the signer's kind only. Credentials are
// immutable and safe for concurrent use; make them with [NewCredentials].
type Credentials struct {
	apiKey string
	signer Signer
}

// NewCredentials returns credentials for apiKey signing with signer.
func NewCredentials(apiKey string, signer Signer) *Credentials {
	return &Credentials{apiKey: apiKey, signer: signer}
}

// APIKey returns the API key (not a secret, but not printed in full either).
func (c Credentials) APIKey() string { return c.apiKey }

// String shows the key's first four characters and the signer's kind.
func (c Credentials) String() string {
	key := c.apiKey
	if len(key) > 4 {
		key = key[:4] + "…"
	}
	kind := "none"
	if s, ok := c.signer.(fmt.Stringer); ok {
		kind = s.String()
	} else if c.signer != nil {
		kind = "custom(redacted)"
	}
	return "Credentials{APIKey: " + key + ", Signer: " + kind + "}"
}

// GoString is String, so %#v prints no secret either.
func (c Credentials) GoString() string { return c.String() }

// Format makes every verb (%v, %+v, %#v, %s, %q, %x, …) print String.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps slog from printing the fields.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalText keeps encoders from printing the fields.
func (c Credentials) MarshalText() ([]byte, error) { return []byte(c.String()), nil }
