package normalize_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
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

// Audit of issue 4 ("executionReport into ExecReport (... last and
// cumulative fill ...)"; "Errors: a typed *ParseError with venue, stream,
// field and cause") and issue 17 (execution reports on every venue): an
// execution report that lacks a field its venue always sends for a fill is
// delivered as if it were whole — a fill at price 0 (Binance spot "L",
// USDⓈ-M "o.L", Bybit "execPrice", OKX "fillPx", Kraken "last_price"), an
// OKX filled order without "fillSz" (no fill at all), a report with no symbol (Binance "s",
// Bybit "symbol": a subscriber filtering by symbol never gets it), a Bybit
// execution with no execType or a Kraken one with no order_status
// (unknown, not a typed error). Each must be a
// *ParseError naming the field. Cases: the project's real samples with one
// member removed.
func TestAuditExecReportMissingFields(t *testing.T) {
	for _, c := range []struct {
		file string
		path []string
		mk   func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser
	}{
		{"binance_executionReport_trade.json", []string{"L"}, normalize.NewBinance},
		{"binance_executionReport_trade.json", []string{"s"}, normalize.NewBinance},
		{"binance_futures_ORDER_TRADE_UPDATE_partial.json", []string{"o", "L"}, normalize.NewBinance},
		{"bybit_v5_execution.json", []string{"data", "execPrice"}, normalize.NewBybit},
		{"bybit_v5_execution.json", []string{"data", "symbol"}, normalize.NewBybit},
		{"bybit_v5_execution.json", []string{"data", "execType"}, normalize.NewBybit},
		{"okx_orders_fill.json", []string{"data", "fillPx"}, normalize.NewOKX},
		{"okx_orders_fill.json", []string{"data", "fillSz"}, normalize.NewOKX},
		{"kraken_v2_executions_trade.json", []string{"data", "last_price"}, normalize.NewKraken},
		{"kraken_v2_executions_trade.json", []string{"data", "order_status"}, normalize.NewKraken},
	} {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "venues", c.file))
		require.NoError(t, err)
		var doc any
		require.NoError(t, json.Unmarshal(raw, &doc))
		require.True(t, deleteMember(doc, c.path), "%s has %v", c.file, c.path)
		msg, err := json.Marshal(doc)
		require.NoError(t, err)

		events := pool.New("audit", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		var got []string
		p := c.mk(events, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			var x schema.Execution // a gap marker carries none
			if ev.Exec != nil {
				x = *ev.Exec
			}
			got = append(got, fmt.Sprintf("%v symbol %q %v %v@%v", ev.Type, ev.Symbol, x.ExecType, x.LastFillQty, x.LastFillPrice))
			events.Put(ev)
			return nil
		}), nil)
		err = p.HandleBytes(context.Background(), msg, 1)
		var pe *normalize.ParseError
		assert.True(t, errors.As(err, &pe), "%s without %v: err %v, events %v; want a *ParseError", c.file, c.path, err, got)
	}
}

// deleteMember removes the member at path from a decoded JSON document,
// descending into the first element of arrays; it reports whether it was
// there.
func deleteMember(v any, path []string) bool {
	if a, ok := v.([]any); ok {
		return len(a) > 0 && deleteMember(a[0], path)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if len(path) == 1 {
		_, had := m[path[0]]
		delete(m, path[0])
		return had
	}
	return deleteMember(m[path[0]], path[1:])
}
