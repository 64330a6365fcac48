package spec

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// CSVText is a CSV file made ready for the reader: UTF-8 without BOM, and the field
// separator its header uses.
type CSVText struct {
	Data      []byte
	Separator rune
	// Encoding names the encoding the file was converted from ("" when it was UTF-8).
	Encoding string
}

// undefined1252 are the bytes Windows-1252 leaves undefined: a file holding them is
// not Windows-1252 text.
var undefined1252 = []byte{0x81, 0x8d, 0x8f, 0x90, 0x9d}

// DecodeCSV prepares a CSV as spreadsheets save it: a UTF-8 BOM is dropped; a file
// that is not UTF-8 but is Windows-1252 (which Latin-1 text also is, for every
// printable character) is converted; UTF-16 and other encodings are refused with the
// fix. The separator is the one of ',', ';' and tab that the header line holds most
// of, outside quotes (LibreOffice in French saves with ';').
func DecodeCSV(data []byte) (CSVText, error) {
	var out CSVText
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte{0xfe, 0xff}),
		len(data) >= 4 && (data[1] == 0 && data[3] == 0 || data[0] == 0 && data[2] == 0):
		return out, fmt.Errorf("the file is UTF-16 (as Excel's \"Unicode Text\" saves it); save it as \"CSV UTF-8 (comma delimited)\" and import that")
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		for _, b := range undefined1252 {
			if bytes.IndexByte(data, b) >= 0 {
				line := 1 + bytes.Count(data[:bytes.IndexByte(data, b)], []byte("\n"))
				return out, fmt.Errorf("line %d: the file is neither UTF-8 nor Windows-1252/Latin-1 (byte 0x%02x); save it as CSV with the character set UTF-8 (LibreOffice: Save As, Edit filter settings, Character set Unicode (UTF-8); Excel: CSV UTF-8)", line, b)
			}
		}
		conv, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return out, fmt.Errorf("the file is not UTF-8 and could not be read as Windows-1252: %v; save it as CSV UTF-8", err)
		}
		data, out.Encoding = conv, "Windows-1252 (Latin-1)"
	}
	out.Data = data
	out.Separator = sniffSeparator(data)
	return out, nil
}

// sniffSeparator counts the candidate separators on the first line, outside quotes.
func sniffSeparator(data []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, r := range string(data) {
		if r == '"' {
			quoted = !quoted
			continue
		}
		if !quoted && (r == '\n' || r == '\r') {
			break
		}
		if !quoted && (r == ',' || r == ';' || r == '\t') {
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}
