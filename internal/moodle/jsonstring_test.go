package moodle

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/bits"
	"math/rand/v2"
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
	for _, s := range []string{"", "abc", `{"a":"b\\c"}`, "é😀\u2028<>&\x01", strings.Repeat("x\"", 40),
		strings.Repeat(`[12345,"abcdefghijk",0,"",7]`, 9) + "\t" + strings.Repeat("0123456789abcdef\\", 5)} {
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

// special's lowest mark is the first byte that ends a run of plain string bytes, for
// every byte at every place and for random words (where borrows may mark later bytes).
func TestSpecialFindsTheFirstByteThatEndsARun(t *testing.T) {
	first := func(b []byte) int {
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 {
				return i
			}
		}
		return 8
	}
	check := func(b []byte) {
		got := 8
		if m := special(binary.LittleEndian.Uint64(b)); m != 0 {
			got = bits.TrailingZeros64(m) / 8
		}
		if want := first(b); got != want {
			t.Fatalf("% x: first special byte at %d, want %d", b, got, want)
		}
	}
	for v := range 256 {
		for k := range 8 {
			b := []byte("abcdefgh")
			b[k] = byte(v)
			check(b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		b := binary.LittleEndian.AppendUint64(nil, r.Uint64())
		for i := range b { // most bytes plain, as in an answer
			if r.IntN(4) > 0 {
				b[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		check(b)
	}
}
