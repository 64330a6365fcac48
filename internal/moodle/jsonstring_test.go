package moodle

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestUnquoter(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{name: "plain", in: `"[1,2]" `, want: `[1,2]`},
		{name: "escapes", in: `"a\"b\\c\/d\b\f\n\r\t"`, want: "a\"b\\c/d\b\f\n\r\t"},
		{name: "unicode", in: `"\u00e9\u20ac é"`, want: "é€ é"},
		{name: "surrogate pair", in: `"\ud83d\ude00"`, want: "😀"},
		{name: "lone surrogate", in: `"\ud83dx"`, want: "\ufffdx"},
		{name: "empty", in: `""`, want: ``},
		{name: "unterminated", in: `"abc`, err: "unterminated JSON string"},
		{name: "cut escape", in: `"ab\u00`, err: "unterminated JSON string"},
		{name: "bad escape", in: `"a\qb"`, err: `invalid escape \q`},
		{name: "bad hex", in: `"\u00zz"`, err: `invalid escape \u00zz`},
		{name: "control character", in: "\"a\nb\"", err: "control character"},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			br := bufio.NewReaderSize(r, 16)
			if !skipSpaceTo(br, '"') {
				t.Fatalf("%s: no opening quote", tt.name)
			}
			got, err := io.ReadAll(&unquoter{r: br})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("%s (one byte %v): %q, %v; want error %q", tt.name, oneByte, got, err, tt.err)
				}
				continue
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("%s (one byte %v): %q, %v; want %q", tt.name, oneByte, got, err, tt.want)
			}
		}
	}
}

// Whatever string encoding/json writes, the unquoter reads back.
func FuzzUnquoter(f *testing.F) {
	for _, s := range []string{"", "abc", `{"a":"b\\c"}`, "é😀\u2028<>&\x01", strings.Repeat("x\"", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc, err := json.Marshal(s)
		if err != nil {
			t.Skip()
		}
		var want string // encoding/json's own reading (invalid UTF-8 became U+FFFD)
		if err := json.Unmarshal(enc, &want); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReaderSize(iotest.HalfReader(strings.NewReader(string(enc)+" ")), 16)
		if !skipSpaceTo(br, '"') {
			t.Fatal("no opening quote")
		}
		got, err := io.ReadAll(&unquoter{r: br})
		if err != nil || string(got) != want {
			t.Fatalf("%q: read %q, %v; want %q", enc, got, err, want)
		}
	})
}
