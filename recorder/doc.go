// Package recorder records raw venue WebSocket messages to files and plays
// them back.
package recorder
