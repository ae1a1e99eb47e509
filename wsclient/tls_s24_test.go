package wsclient

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A certificate the host trusts, for another name than the URL's (a DNS
// answer or a load balancer pointing at the wrong service): permanent,
// typed (a *tls.CertificateVerificationError over an x509.HostnameError),
// reported once, never redialled.
func TestTLSWrongHostPermanent(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate()) // valid for example.com and 127.0.0.1, not "localhost"
	tr := ownHTTPClient().Transport.(*http.Transport)
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	opts := quickOptions()
	opts.HTTPClient = &http.Client{Transport: tr}
	url := "wss://localhost:" + srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	h := start(t, url, opts, &sink{}, leaks)
	err := recvWait(t, h.runErr, "Run's end")
	h.runErr <- nil
	require.ErrorIs(t, err, ErrPermanent)
	var ce *tls.CertificateVerificationError
	require.ErrorAs(t, err, &ce)
	var he x509.HostnameError
	require.ErrorAs(t, err, &he)
	ev := h.rec.waitFor(t, "disconnected", isState(schema.ConnDisconnected))
	require.Equal(t, ReasonPermanent, ev.Reason)
	require.Zero(t, h.rec.count(isState(schema.ConnReconnecting)))
	h.finish(nil, srv.Close, tr.CloseIdleConnections)
}
