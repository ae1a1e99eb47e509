package normalize_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/meltica/meltica/normalize"
)

// Audit of issue 17 (the private channels' keys) against HELPERS' rule
// "every parser has a fuzz target with a seed corpus": ParseCoinbaseKey
// reads a host-supplied PEM. Whatever the text, it returns a P-256 key or
// an error matching ErrBadValue, and never panics.
func FuzzParseCoinbaseKey(f *testing.F) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: sec1}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}))
	f.Add([]byte(`-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, text []byte) {
		key, err := normalize.ParseCoinbaseKey(text)
		if err != nil {
			if !errors.Is(err, normalize.ErrBadValue) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if key == nil || key.Curve != elliptic.P256() {
			t.Fatalf("key %v without an error", key)
		}
	})
}
