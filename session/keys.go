package session

import "log/slog"

// The venues' keys never print their secret: String, GoString and every
// fmt verb show the venue and the key's first characters (see redacted);
// LogValue does the same for slog (whose JSON handler would otherwise
// encode the exported fields, secret included) and MarshalText for
// encoders, a Config holding the key included.

// LogValue keeps slog from printing the fields.
func (k *OKXKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText keeps encoders from printing the fields.
func (k *OKXKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// LogValue keeps slog from printing the fields.
func (k *BybitKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText keeps encoders from printing the fields.
func (k *BybitKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// LogValue keeps slog from printing the fields.
func (k *KrakenKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText keeps encoders from printing the fields.
func (k *KrakenKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// LogValue keeps slog from printing the fields.
func (k *CoinbaseKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText keeps encoders from printing the fields.
func (k *CoinbaseKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
