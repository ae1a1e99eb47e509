package pipeline

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/meltica/meltica/internal/cryptofeed"
	"github.com/meltica/meltica/recorder"
)

// Import returns files as recordings Replay, venuesim.StartReplay and
// recorder.Open can open: each file of
// Meltica's format as it is, and each session in cryptofeed's sample_data
// format (../shared/recordings) converted into a temporary recording of
// venue, or, when venue is empty, of the venue its recorded URL names.
// cleanup removes what was converted. A file of neither format is the
// recorder's ErrFormat.
func Import(files []string, venue string) (out []string, cleanup func(), err error) {
	var dir string
	cleanup = func() {
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
	}
	native := false // the file before f was kept as Meltica's format
	for i, f := range files {
		r, ferr := recorder.Open(f)
		if ferr == nil {
			r.Close()
			out = append(out, f)
			native = true
			continue
		}
		if !errors.Is(ferr, recorder.ErrFormat) {
			cleanup()
			return nil, nil, ferr
		}
		if i == len(files)-1 && native && cutLastPart(files[i-1], f) {
			out = append(out, f)
			native = false // cut in its header: no part number to follow
			continue
		}
		native = false
		if dir == "" {
			if dir, err = os.MkdirTemp("", "meltica-import-"); err != nil {
				return nil, nil, err
			}
		}
		conv, cerr := convertCryptofeed(f, venue, filepath.Join(dir, fmt.Sprintf("%03d.jsonl", len(out))))
		if cerr != nil {
			cleanup()
			if errors.Is(cerr, cryptofeed.ErrFormat) {
				return nil, nil, ferr // neither format: the recorder's word
			}
			return nil, nil, cerr
		}
		out = append(out, conv)
	}
	if native {
		if err := lastPartGiven(files); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	return out, cleanup, nil
}

// lastPartGiven refuses files whose last is a part of a rotated recording
// whose next part is beside it, not given: replayed, the recording would
// end early without a word.
func lastPartGiven(files []string) error {
	last := files[len(files)-1]
	r, err := recorder.Open(last)
	if err != nil {
		return nil // read and reported by whoever replays it
	}
	part := r.Header().Part
	r.Close()
	next := recorder.NextPart(last, part)
	if next == "" || slices.Contains(files, next) {
		return nil
	}
	if _, err := os.Stat(next); err != nil {
		return nil
	}
	return fmt.Errorf("%s is part %d of a rotated recording whose part %d, %s, is beside it: name every part", last, part, part+1, next)
}

// cutLastPart reports whether last, read after prev, is the last part of
// a rotated recording that a recorder killed just after its rotation left
// empty or cut inside its header: the recorder reads it as a cut at the
// end (ErrCutShort), not as a file of another format, which is what it
// is on its own. The recorder's rule decides, by reading both.
func cutLastPart(prev, last string) bool {
	r, err := recorder.Open(prev, last)
	if err != nil {
		return false
	}
	defer r.Close()
	cut := false
	for {
		_, err := r.Next()
		switch {
		case err == nil:
		case errors.Is(err, recorder.ErrCutShort):
			cut = true
		case errors.Is(err, io.EOF):
			return cut
		default:
			return false
		}
	}
}

// convertCryptofeed converts one cryptofeed session to dst.
func convertCryptofeed(src, venue, dst string) (string, error) {
	s, err := cryptofeed.ReadFile(src, func(*cryptofeed.Session, *recorder.Line) error { return nil })
	if err != nil && !errors.Is(err, recorder.ErrCutShort) {
		return "", err
	}
	if s.In == 0 && s.Out == 0 && s.REST == 0 && s.Connections == 0 && s.Config == "" {
		// Not one line of cryptofeed's either (an empty file, blank
		// lines): Import gives the recorder's word on it.
		return "", fmt.Errorf("%w: %s: no line", cryptofeed.ErrFormat, src)
	}
	if s.In == 0 {
		return "", fmt.Errorf("%s: a cryptofeed session without WebSocket frames (%d REST answers)", src, s.REST)
	}
	name := venue
	if name != "" {
		v, err := Lookup(name)
		if err != nil {
			return "", err
		}
		name = string(v.Name)
	} else if name = venueOfURL(s.URL); name == "" {
		return "", fmt.Errorf("%s: a cryptofeed session of %q, a venue the tools do not recognise: name it with -venue (%s)", src, s.URL, strings.Join(VenueNames(), ", "))
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = cryptofeed.Convert(src, f, name, false)
	if errors.Is(err, recorder.ErrCutShort) {
		// The session was cut mid-line: so is its conversion, which a
		// replay then reads up to the cut and reports, as it reports a
		// Meltica recording cut short.
		_, err = f.WriteString(`{"t":`)
	}
	return dst, errors.Join(err, f.Close())
}

// venueOfURL is the recording venue (a header's Venue) of a venue's
// WebSocket URL, or "" for a host none of Venues has.
func venueOfURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	for _, v := range Venues {
		if vu, err := url.Parse(v.URL); err == nil && sameSite(host, vu.Hostname()) {
			return string(v.Name)
		}
	}
	return ""
}

// sameSite reports whether two hosts share their last two labels
// (stream.binance.com and api.binance.com; ws-feed.pro.coinbase.com and
// advanced-trade-ws.coinbase.com).
func sameSite(a, b string) bool {
	site := func(h string) string {
		labels := strings.Split(h, ".")
		if len(labels) < 2 {
			return h
		}
		return strings.Join(labels[len(labels)-2:], ".")
	}
	return a != "" && site(a) == site(b)
}
