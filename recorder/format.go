package recorder

// FormatName and FormatVersion open every recording file: its first line is
// a Line with Format and Version set (the header), every later line is one
// frame.
const (
	FormatName    = "meltica.recording"
	FormatVersion = 1
)

// Line is one line of a recording, JSON-encoded (JSON Lines, one object per
// line, "\n" after each). A file's first line is its header; every later
// line is one WebSocket message.
//
// Header fields: Format, Version, Venue, URL, Part (the file's number within
// a rotated recording, from 1) and Time (when the file was opened, Unix ns).
//
// Frame fields: Time (the receive time stamped by the reader, Unix ns), Conn
// (the connection id within the client, from 1), Seq (the message number
// within the connection), Out (true for a message sent to the venue, such
// as a subscription, false for one received), and the message itself in
// exactly one of Text (a text message that is valid UTF-8, as a JSON string:
// the bytes come back identical) or Bin (any other message, and a text
// message too long to be sure its escaped form fits in [MaxLine]; base64 as
// encoding/json writes []byte). Binary says whether the WebSocket message
// was binary.
//
// The field names are short because a recording repeats them on every line.
type Line struct {
	Format  string `json:"format,omitzero"`
	Version int    `json:"version,omitzero"`
	Venue   string `json:"venue,omitzero"`
	URL     string `json:"url,omitzero"`
	Part    int    `json:"part,omitzero"`

	Time   int64  `json:"t"`
	Conn   uint64 `json:"conn,omitzero"`
	Seq    uint64 `json:"seq,omitzero"`
	Out    bool   `json:"out,omitzero"`
	Binary bool   `json:"binary,omitzero"`
	Text   string `json:"text,omitzero"`
	Bin    []byte `json:"bin,omitzero"`
}

// IsHeader reports whether l is a file header rather than a frame.
func (l *Line) IsHeader() bool { return l.Format != "" }
