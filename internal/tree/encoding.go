package tree

import (
	"bytes"
	"unicode/utf8"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// checkUTF8 reports the first byte of src that is not UTF-8, at its line and column
// (columns count characters, as the parsers' do). YAML parsers say only "invalid
// UTF-8" with no place, and a file saved as Latin-1 or Windows-1252 has one such byte
// per accented letter, so the first one is what the author needs.
func checkUTF8(file string, src []byte) diag.Diagnostics {
	if utf8.Valid(src) || hasUTF16BOM(src) {
		return nil
	}
	line, lineStart := 1, 0
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 {
			col := utf8.RuneCount(src[lineStart:i]) + 1
			return diag.Diagnostics{diag.Errorf(diag.Pos{File: file, Line: line, Col: col},
				"invalid UTF-8 (byte 0x%02X): spec files must be UTF-8; re-save this file as UTF-8 (was it saved as Latin-1 or Windows-1252?)", src[i])}
		}
		if r == '\n' {
			line, lineStart = line+1, i+1
		}
		i += size
	}
	return nil
}

// hasUTF16BOM reports a UTF-16 byte order mark, which YAML parsers decode themselves.
func hasUTF16BOM(src []byte) bool {
	return bytes.HasPrefix(src, []byte{0xFF, 0xFE}) || bytes.HasPrefix(src, []byte{0xFE, 0xFF})
}
