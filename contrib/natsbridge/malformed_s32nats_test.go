package natsbridge

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
)

// errorHandler is a host's slog handler that hands on the "error" of every
// record.
type errorHandler struct{ errs chan error }

func (errorHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h errorHandler) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == "error" {
			h.errs <- err
		}
		return true
	})
	return nil
}
func (h errorHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h errorHandler) WithGroup(string) slog.Handler      { return h }

// TestS32ForeignMessageIsATypedError: a message on the bridge's subjects
// that is not the bridge's — another producer's text, a layout this
// Consumer does not know, a message cut short — is dropped, counted
// (Malformed) and logged with its error; the host must be able to tell
// which (errors.Is), as for every bad input of the SDK. The errors were
// internal/wire's, which a host cannot name.
func TestS32ForeignMessageIsATypedError(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	errs := make(chan error, 16)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{Logger: slog.New(errorHandler{errs})})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	trade := tradeOf("BTC-USDT", 1)
	raw.sendBytes(trade, []byte(`{"e":"trade","s":"BTCUSDT"}`)) // JSON: byte '{' is no layout
	next := func() error {
		t.Helper()
		select {
		case err := <-errs:
			return err
		case <-closeCtx(t).Done():
			t.Fatal("no error logged")
			return nil
		}
	}
	require.ErrorIs(t, next(), ErrWireVersion)
	raw.send(trade, 1)
	b := wire.Append(nil, tradeOf("BTC-USDT", 2), 2)
	raw.sendBytes(trade, b[:len(b)-1]) // cut short
	err = next()
	require.ErrorIs(t, err, ErrMalformed)
	require.NotErrorIs(t, err, ErrWireVersion)
	eventually(t, func() bool { return cons.Stats().Malformed == 2 }, "malformed not counted: %+v", cons.Stats())
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
