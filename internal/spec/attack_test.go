package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Attack cases: files a careless operator or a hostile pull request could put in a spec
// folder. Each must be refused with a clear message, quickly, without exhausting memory.

// loadWithin loads dir and fails the test when loading does not finish in time (a
// blocked open of a FIFO would otherwise hang the whole test binary).
func loadWithin(t *testing.T, dir string) *Set {
	t.Helper()
	done := make(chan *Set, 1)
	go func() { done <- LoadDir(dir, Options{Location: paris}) }()
	select {
	case set := <-done:
		return set
	case <-time.After(20 * time.Second):
		t.Fatalf("loading %s did not finish: a file blocked the loader", dir)
		return nil
	}
}

func wantDiag(t *testing.T, set *Set, want ...string) {
	t.Helper()
	got := strings.Join(diagStrings(set.Diagnostics), "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("diagnostics lack %q; got:\n%s", w, got)
		}
	}
}

func TestAttackFilesThatAreNotRegular(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.yaml", "course: A\n")
	if err := mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("ok.yaml", filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	set := loadWithin(t, dir)
	wantDiag(t, set,
		filepath.Join(dir, "pipe.yaml")+": cannot read: not a regular file (a named pipe); a spec file must be a plain file",
		filepath.Join(dir, "zero.yaml")+`: cannot read: a link to "/dev/zero", outside the spec folder`,
	)
	// A link to a regular file is read like the file (and declares course A twice).
	wantDiag(t, set, `course "A" is declared in two places`)
}

func TestAttackFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	big := "course: A\nmanual:\n  users:\n" + strings.Repeat("    - u\n", 5<<20/8)
	write(t, dir, "big.yaml", big)
	set := loadWithin(t, dir)
	wantDiag(t, set, filepath.Join(dir, "big.yaml")+": cannot read: file is 5.0 MiB; a spec file may be at most 4 MiB (split it into several files)")
	if len(set.Courses) != 0 {
		t.Errorf("a file over the cap was read: %d courses", len(set.Courses))
	}
}

func write(t *testing.T, dir, name, src string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// One check of a day for YAML and HCL: a day the calendar lacks, or before 2000, is
// refused in both; an epoch-0 timestamp is refused rather than read as "never".
func TestAttackDatesAreCheckedOnce(t *testing.T) {
	tests := []struct {
		name, file, src, want string
	}{
		{"yaml day that does not exist", "c.yaml", "course: A\nmanual:\n  until: 2027-02-30\n",
			`c.yaml:3:10: until: bad date "2027-02-30": not a day of the calendar (YYYY-MM-DD)`},
		{"hcl day that does not exist", "c.hcl", "course \"A\" {\n  manual {\n    until = date(2027, 2, 30)\n  }\n}\n",
			`c.hcl:3:13: Error in function call: Call to function "date" failed: date(2027, 2, 30) is not a day of the calendar.`},
		{"yaml day before 2000", "c.yaml", "course: A\nmanual:\n  from: 1999-12-31\n",
			`c.yaml:3:9: from: bad date "1999-12-31": before 2000: spec dates are in 2000 or later`},
		{"hcl day before 2000", "c.hcl", "course \"A\" {\n  manual {\n    from = date(1999, 12, 31)\n  }\n}\n",
			`c.hcl:3:12: Error in function call: Call to function "date" failed: date(1999, 12, 31) is before 2000: spec dates are in 2000 or later.`},
		{"epoch 0 is not never", "c.yaml", "course: A\nmanual:\n  until: 1970-01-01T00:00:00Z\n",
			`c.yaml:3:10: until: bad date "1970-01-01T00:00:00Z": before 2000: spec dates are in 2000 or later`},
		{"epoch 0 from hcl text", "c.hcl", "course \"A\" {\n  manual {\n    until = timeadd(\"1970-01-01T00:00:00Z\", \"0s\")\n  }\n}\n",
			`c.hcl:3:13: until: bad date "1970-01-01T00:00:00Z": before 2000: spec dates are in 2000 or later`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := LoadBytes(tt.file, []byte(tt.src), Options{Location: paris})
			got := strings.Join(diagStrings(set.Diagnostics.Errors()), "\n")
			if got != tt.want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// A file saved as Latin-1 gets the line and column of its first byte that is not UTF-8
// (columns in characters: the é before it counts once).
func TestAttackNotUTF8(t *testing.T) {
	tests := []struct{ file, src, want string }{
		{"c.yaml", "course: A\nmanual:\n  users:\n    - \"café-h\xe9lo\"\n",
			"c.yaml:4:14: invalid UTF-8 (byte 0xE9): spec files must be UTF-8; re-save this file as UTF-8 (was it saved as Latin-1 or Windows-1252?)"},
		{"c.hcl", "course \"A\" {\n  manual {\n    user \"h\xe9lo\" {}\n  }\n}\n",
			"c.hcl:3:12: invalid UTF-8 (byte 0xE9): spec files must be UTF-8; re-save this file as UTF-8 (was it saved as Latin-1 or Windows-1252?)"},
	}
	for _, tt := range tests {
		set := LoadBytes(tt.file, []byte(tt.src), Options{Location: paris})
		if got := strings.Join(diagStrings(set.Diagnostics), "\n"); got != tt.want {
			t.Errorf("%s: diagnostics:\n%s\nwant:\n%s", tt.file, got, tt.want)
		}
	}
}

// A spec of a million bad lines reports the first MaxFileDiagnostics and one line
// counting the rest; many bad files stop at MaxDiagnostics in all.
func TestAttackErrorCountIsCapped(t *testing.T) {
	src := "course: A\nmanual:\n  users:\n" + strings.Repeat("  - u\n", 300_000)
	set := LoadBytes("big.yaml", []byte(src), Options{Location: paris})
	ds := set.Diagnostics
	if len(ds) != MaxFileDiagnostics+1 {
		t.Fatalf("%d diagnostics, want %d and one counting the rest", len(ds), MaxFileDiagnostics+1)
	}
	want := "big.yaml:105:5: and 299,899 more errors in this file, not shown (fix the ones above first)"
	if got := ds[len(ds)-1].Error(); got != want {
		t.Errorf("last diagnostic:\n%s\nwant:\n%s", got, want)
	}
	if !ds.HasErrors() {
		t.Errorf("the capped diagnostics lost their errors")
	}
	if n := ErrorCount(ds); n != 299_999 {
		t.Errorf("ErrorCount = %d, want 299,999 (every user after the first is listed twice)", n)
	}

	dir := t.TempDir()
	for i := range 20 {
		write(t, dir, fmt.Sprintf("c%02d.yaml", i), fmt.Sprintf("course: C%d\nmanual:\n  users:\n", i)+strings.Repeat("  - u\n", 200))
	}
	set = loadWithin(t, dir)
	if len(set.Diagnostics) != MaxDiagnostics+1 {
		t.Fatalf("%d diagnostics over 20 files, want %d and one counting the rest", len(set.Diagnostics), MaxDiagnostics+1)
	}
	last := set.Diagnostics[len(set.Diagnostics)-1].Error()
	if !strings.HasSuffix(last, "and 1,520 more errors from here on, not shown (fix the ones above first)") {
		t.Errorf("last diagnostic over many files: %s", last)
	}
}
