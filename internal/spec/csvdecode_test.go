package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The CSV files the team writes: LibreOffice in French (';'), Excel (BOM, CRLF),
// tab-separated exports, Windows-1252 accents; all read as the same additions.
func TestReadUploadUsersAsSpreadsheetsSaveThem(t *testing.T) {
	want := []Addition{
		{Course: "FC-WORD", Username: "dupontj01", Role: "editingteacher", Groups: []string{"Soirée"}, Until: "2027-11-22", Line: 2},
		{Course: "FC-WORD", Username: "marchals01", Until: "never", Line: 3},
	}
	rows := [][]string{
		{"username", "lastname", "course1", "role1", "group1", "enrolperiod1"},
		{"dupontj01", "Dupont", "FC-WORD", "editingteacher", "Soirée", "365"},
		{"marchals01", "Marchal", "FC-WORD", "", "", ""},
	}
	join := func(sep, eol string) string {
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(strings.Join(r, sep) + eol)
		}
		return b.String()
	}
	latin1 := strings.ReplaceAll(join(";", "\r\n"), "é", "\xe9")
	for _, tt := range []struct{ name, src, warning string }{
		{"comma", join(",", "\n"), ""},
		{"semicolon, BOM and CRLF", "\ufeff" + join(";", "\r\n"), ""},
		{"tab", join("\t", "\n"), ""},
		{"Windows-1252", latin1, "u.csv: warning: the file is Windows-1252 (Latin-1), not UTF-8: converted (save it as CSV UTF-8 to silence this)"},
		{"quoted separators do not count", `"username";"course1";"group1";"role1";"lastname";"enrolperiod1"` + "\n" +
			"dupontj01;FC-WORD;Soirée;editingteacher;\"Dupont, Jean\";365\nmarchals01;FC-WORD;;;;\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ds := ReadUploadUsers("u.csv", strings.NewReader(tt.src), importNow, paris, nil)
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			if d := cmp.Diff(want, got, ignoreCSVPlaces); d != "" {
				t.Errorf("additions (-want +got):\n%s", d)
			}
			var warnings []string
			for _, d := range ds {
				warnings = append(warnings, d.Error())
			}
			if tt.warning == "" && len(warnings) > 0 || tt.warning != "" && (len(warnings) != 1 || warnings[0] != tt.warning) {
				t.Errorf("warnings %q, want %q", warnings, tt.warning)
			}
		})
	}
}

func TestDecodeCSVRefuses(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"UTF-16 with BOM", "\xff\xfeu\x00s\x00", "the file is UTF-16"},
		{"UTF-16 without BOM", "u\x00s\x00e\x00r\x00", "the file is UTF-16"},
		{"not Windows-1252", "username,course1\nd\x81,A\n", "line 2: the file is neither UTF-8 nor Windows-1252/Latin-1 (byte 0x81); save it as CSV with the character set UTF-8"},
	} {
		_, err := DecodeCSV([]byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to say %q", tt.name, err, tt.want)
		}
	}
}

func FuzzDecodeCSV(f *testing.F) {
	f.Add([]byte("username;course1\r\nx;A\r\n"))
	f.Add([]byte("\ufeffusername\tcourse1\n\"a\tb\"\tA\n"))
	f.Add([]byte("username,course1\n\xe9t\xe9,A\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := DecodeCSV(data)
		if err != nil {
			return
		}
		if !utf8.Valid(text.Data) {
			t.Fatalf("decoded text is not UTF-8: %q", text.Data)
		}
		if text.Separator != ',' && text.Separator != ';' && text.Separator != '\t' {
			t.Fatalf("separator %q", text.Separator)
		}
	})
}

// BenchmarkImportCSV reads and writes a 100,000-row upload-users file into the specs of
// 50 courses that already list users: the cost must grow linearly with the rows.
func BenchmarkImportCSV(b *testing.B) {
	const rows, courses = 100_000, 50
	var src strings.Builder
	src.WriteString("username;firstname;lastname;course1;role1;group1;enrolperiod1\r\n")
	for i := range rows {
		fmt.Fprintf(&src, "u%07d;Jean;Dupont;C%02d;student;TP%d;365\r\n", i, i%courses, i%4)
	}
	data := src.String()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		for c := range courses {
			spec := fmt.Sprintf("course: C%02d\nmanual:\n  users:\n", c)
			for i := range 200 {
				spec += fmt.Sprintf("    - u%07d\n", i*courses+c) // some users already listed
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%02d.yaml", c)), []byte(spec), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		set := LoadDir(dir, Options{Location: paris})
		b.StartTimer()
		adds, ds := ReadUploadUsers("big.csv", strings.NewReader(data), importNow, paris, nil)
		if ds.HasErrors() || len(adds) != rows {
			b.Fatalf("%d additions, %v", len(adds), ds)
		}
		if _, err := WriteAdditions(set, dir, adds, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
