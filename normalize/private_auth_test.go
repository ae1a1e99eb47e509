package normalize

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/schema"
)

var testTime = time.Unix(1538054050, 0)

// TestOKXSign: OKX's signature is Base64(HMAC-SHA256(secret, payload)),
// checked against RFC 4231 test case 2 (OKX's docs give the recipe, no
// secret to check a worked example against).
func TestOKXSign(t *testing.T) {
	want, _ := hex.DecodeString("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
	require.Equal(t, base64.StdEncoding.EncodeToString(want), okxSign([]byte("Jefe"), "what do ya want for nothing?"))
}

// TestOKXLogin: the login request's bytes, as OKX v5 "Login" shows them,
// its signature over timestamp + "GET" + "/users/self/verify".
func TestOKXLogin(t *testing.T) {
	secret := []byte("22582BD0CFF14C41EDBF1AB98506286D")
	got, err := OKXLogin("985d5b66-57ce-40fb-b714-afc0b9787083", "123456", secret, testTime)
	require.NoError(t, err)
	sign := okxSign(secret, "1538054050GET/users/self/verify")
	require.Equal(t, `{"op":"login","args":[{"apiKey":"985d5b66-57ce-40fb-b714-afc0b9787083","passphrase":"123456","timestamp":"1538054050","sign":"`+sign+`"}]}`, string(got))

	sub, err := OKXSubscribeOrders("ANY")
	require.NoError(t, err)
	require.Equal(t, `{"op":"subscribe","args":[{"channel":"orders","instType":"ANY"}]}`, string(sub))
}

// TestBybitAuth: Bybit v5 "Authentication": args are the key, expires (ms)
// and the hex HMAC-SHA256 of "GET/realtime" + expires.
func TestBybitAuth(t *testing.T) {
	secret := []byte("bybit-secret")
	expires := time.UnixMilli(1662350400000)
	got, err := BybitAuth(NewCredentials("XXXXXX", NewHMACSigner(secret)), 7, expires)
	require.NoError(t, err)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("GET/realtime1662350400000"))
	require.Equal(t, `{"req_id":"7","op":"auth","args":["XXXXXX",1662350400000,"`+hex.EncodeToString(m.Sum(nil))+`"]}`, string(got))

	// The answer is an ack carrying the request id.
	evs, err := parseOne(t, by, []byte(`{"success":true,"ret_msg":"","op":"auth","conn_id":"cejreaspqfh3sjdnldmg-p","req_id":"7"}`))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, schema.ControlSubscribeAck, evs[0].Control.Kind)
	require.Equal(t, uint64(7), evs[0].Control.RequestID)
}

// TestKrakenSign: Kraken "Spot REST Authentication"'s worked example.
func TestKrakenSign(t *testing.T) {
	got, err := KrakenSign("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
		"/0/private/AddOrder", "1616492376594", "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25")
	require.NoError(t, err)
	require.Equal(t, "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==", got)
}

// TestKrakenWebSocketsToken: the token request is signed as Kraken
// documents, and its answers — a token, a venue error, an HTTP error,
// malformed JSON — come back as the token or typed errors.
func TestKrakenWebSocketsToken(t *testing.T) {
	const secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
	answer := `{"error":[],"result":{"token":"G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY","expires":900}}`
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 64)
		n, _ := r.Body.Read(body)
		want, _ := KrakenSign(secret, KrakenGetWebSocketsToken, "1616492376594", "nonce=1616492376594")
		if r.Method != http.MethodPost || r.URL.Path != KrakenGetWebSocketsToken || r.Header.Get("API-Key") != "key" ||
			r.Header.Get("API-Sign") != want || string(body[:n]) != "nonce=1616492376594" {
			http.Error(w, `{"error":["EAPI:Invalid signature"]}`, http.StatusForbidden)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	defer srv.Close()
	ctx := context.Background()
	tok, err := FetchKrakenWebSocketsToken(ctx, srv.Client(), srv.URL, "key", secret, 1616492376594)
	require.NoError(t, err)
	require.Equal(t, "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY", tok)

	sub, err := KrakenSubscribeExecutions(tok, 5, true, true)
	require.NoError(t, err)
	require.Equal(t, `{"method":"subscribe","params":{"channel":"executions","token":"G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY","snap_orders":true,"snap_trades":true},"req_id":5}`, string(sub))

	var re *RESTError
	answer = `{"error":["EGeneral:Permission denied"]}`
	_, err = FetchKrakenWebSocketsToken(ctx, srv.Client(), srv.URL, "key", secret, 1616492376594)
	require.ErrorAs(t, err, &re)
	require.Equal(t, "EGeneral:Permission denied", re.Msg)

	_, err = FetchKrakenWebSocketsToken(ctx, srv.Client(), srv.URL, "other", secret, 1616492376594)
	require.ErrorAs(t, err, &re)
	require.Equal(t, int64(http.StatusForbidden), re.Code)

	var pe *ParseError
	answer = `{"error":[],"result":{"token":`
	_, err = FetchKrakenWebSocketsToken(ctx, srv.Client(), srv.URL, "key", secret, 1616492376594)
	require.ErrorAs(t, err, &pe)
	require.ErrorIs(t, err, ErrMalformed)
	answer = `{"error":[],"result":{}}`
	_, err = FetchKrakenWebSocketsToken(ctx, srv.Client(), srv.URL, "key", secret, 1616492376594)
	require.ErrorIs(t, err, ErrMissingField)
}

// TestCoinbaseJWT: the token is an ES256 JWS whose header and claims are
// Coinbase's (CDP "API Key Authentication"), verifiable with the key's
// public half; the key is read from its PEM.
func TestCoinbaseJWT(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	parsed, err := ParseCoinbaseKey(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	require.NoError(t, err)
	const name = "organizations/org-1/apiKeys/key-1"
	tok, err := CoinbaseJWT(name, parsed, testTime)
	require.NoError(t, err)

	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	var header struct{ Alg, Kid, Nonce, Typ string }
	var claims struct {
		Iss, Sub string
		Nbf, Exp int64
	}
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, v, json.MatchCaseInsensitiveNames(true)))
	}
	require.Equal(t, "ES256", header.Alg)
	require.Equal(t, "JWT", header.Typ)
	require.Equal(t, name, header.Kid)
	require.Len(t, header.Nonce, 32)
	require.Equal(t, "cdp", claims.Iss)
	require.Equal(t, name, claims.Sub)
	require.Equal(t, testTime.Unix(), claims.Nbf)
	require.Equal(t, testTime.Unix()+120, claims.Exp)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	require.Len(t, sig, 64)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	require.True(t, ecdsa.Verify(&key.PublicKey, sum[:], r, s), "signature verifies with the public key")

	sub, err := CoinbaseSubscribeUser(tok, "BTC-USD")
	require.NoError(t, err)
	require.Equal(t, `{"type":"subscribe","channel":"user","product_ids":["BTC-USD"],"jwt":"`+tok+`"}`, string(sub))
	sub, err = CoinbaseSubscribeUser(tok)
	require.NoError(t, err)
	require.Equal(t, `{"type":"subscribe","channel":"user","product_ids":[],"jwt":"`+tok+`"}`, string(sub))

	// PKCS #8 is accepted too; another curve is not.
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	_, err = ParseCoinbaseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	require.NoError(t, err)
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, err = x509.MarshalECPrivateKey(other)
	require.NoError(t, err)
	_, err = ParseCoinbaseKey(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	require.ErrorIs(t, err, ErrBadValue)
}

// TestPrivateAnswers: the venues' answers to a login, an auth or a private
// subscription are control events: acks, or venue errors with the code.
func TestPrivateAnswers(t *testing.T) {
	tests := []struct {
		venue schema.Venue
		msg   string
		kind  schema.ControlKind
		code  int64
		reqID uint64
	}{
		{ox, `{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}`, schema.ControlSubscribeAck, 0, 0},
		{ox, `{"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"}`, schema.ControlVenueError, 60009, 0},
		{ox, `{"event":"subscribe","arg":{"channel":"orders","instType":"ANY"},"connId":"a4d3ae55"}`, schema.ControlSubscribeAck, 0, 0},
		{by, `{"success":false,"ret_msg":"error:request expired","op":"auth","conn_id":"x","req_id":"9"}`, schema.ControlVenueError, 0, 9},
		{kr, `{"method":"subscribe","result":{"channel":"executions","maxratecount":125,"snap_orders":true,"snap_trades":true},"success":true,"time_in":"2023-10-16T13:18:35.303171Z","time_out":"2023-10-16T13:18:35.318297Z","req_id":5}`, schema.ControlSubscribeAck, 0, 5},
		{kr, `{"error":"EAccount:Invalid permissions","method":"subscribe","success":false,"time_in":"2023-10-16T13:18:35.303171Z","time_out":"2023-10-16T13:18:35.318297Z","req_id":6}`, schema.ControlVenueError, 0, 6},
		{cb, `{"type":"error","message":"authentication failure","channel":"user"}`, schema.ControlVenueError, 0, 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.venue)+" "+tt.kind.String(), func(t *testing.T) {
			evs, err := parseOne(t, tt.venue, []byte(tt.msg))
			require.NoError(t, err)
			c := control(t, evs, tt.venue, tt.kind)
			require.Equal(t, tt.code, c.Code)
			require.Equal(t, tt.reqID, c.RequestID)
		})
	}
}
