package normalize

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/meltica/meltica/schema"
)

// RESTError is a venue's refusal of a REST request, given in the answer's
// body (OKX "code" other than "0", Bybit "retCode" other than 0, Kraken a
// non-empty "error") or by an HTTP status other than 200 (Code is then the
// status and Msg the start of the body).
type RESTError struct {
	Venue    schema.Venue
	Endpoint string // "instruments", "instruments-info", "AssetPairs", "products", …
	Code     int64
	Msg      string
}

func (e *RESTError) Error() string {
	return fmt.Sprintf("normalize: %s %s refused: code %d: %s", e.Venue, e.Endpoint, e.Code, e.Msg)
}

// maxRESTBody bounds an answer read from a venue's REST API (instrument
// lists are a few MB at most).
const maxRESTBody = 64 << 20

// getREST gets url with client (http.DefaultClient when nil) and returns
// the body of a 200 answer.
func getREST(ctx context.Context, client *http.Client, url string, venue schema.Venue, endpoint string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return doREST(client, req, venue, endpoint)
}

// doREST sends req and returns the body of a 200 answer; another status is
// a *RESTError.
func doREST(client *http.Client, req *http.Request, venue schema.Venue, endpoint string) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("normalize: fetching %s %s: %w", venue, endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRESTBody))
	if err != nil {
		return nil, fmt.Errorf("normalize: fetching %s %s: %w", venue, endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := string(body)
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return nil, &RESTError{Venue: venue, Endpoint: endpoint, Code: int64(resp.StatusCode), Msg: strings.TrimSpace(msg)}
	}
	return body, nil
}

// decodeREST decodes a REST answer with goccy's v2 API; a syntax or type
// error is a *ParseError wrapping ErrMalformed, a decoder panic one
// wrapping ErrDecoderPanic.
func decodeREST(data []byte, v any, venue schema.Venue, endpoint string) error {
	switch err := decode(data, v); {
	case err == nil:
		return nil
	case errors.Is(err, ErrDecoderPanic):
		return &ParseError{Venue: venue, Stream: endpoint, Err: err}
	default:
		return &ParseError{Venue: venue, Stream: endpoint, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
}

// ruleField is one instrument rule as the venue sends it: its name, its
// text ("" when not sent) and where it goes.
type ruleField struct {
	name string
	src  string
	dst  *schema.Decimal
}

// setRules parses fields into their rules: a malformed or negative value
// is a *ParseError naming the instrument and the venue's field; an empty
// one leaves the rule unset (not applied).
func setRules(venue schema.Venue, endpoint, symbol string, fields ...ruleField) error {
	for _, fl := range fields {
		if fl.src == "" {
			continue
		}
		d, err := schema.ParseDecimal(fl.src)
		if err == nil && d.Sign() < 0 {
			err = ErrNegative
		}
		if err != nil {
			return &ParseError{Venue: venue, Stream: endpoint + " " + symbol, Field: fl.name, Err: err}
		}
		*fl.dst = d
	}
	return nil
}

// stepOfDecimals is the step 10^-n of a venue that gives a precision as a
// number of decimals (Kraken lot_decimals, pair_decimals).
func stepOfDecimals(n int) (schema.Decimal, bool) {
	if n < 0 || n > schema.MaxScale {
		return schema.Decimal{}, false
	}
	return schema.NewDecimal(1, n), true
}
