package safefile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadsAPlainFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "enrolctl.yaml")
	if err := os.WriteFile(p, []byte("sites: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Read(p, 1024, "configuration file")
	if err != nil || string(b) != "sites: {}\n" {
		t.Fatalf("Read = %q, %v", b, err)
	}
	f, err := Open(p, 1024, "CSV file")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf strings.Builder
	if _, err := io.Copy(&buf, f); err != nil || buf.String() != "sites: {}\n" {
		t.Errorf("Open then read = %q, %v", buf.String(), err)
	}
}

// readSized reads everything whatever the size it is told: the file may have grown or
// shrunk since it was stat'ed, and a reader may hand out a byte at a time.
func TestReadSizedReadsEverything(t *testing.T) {
	data := strings.Repeat("0123456789", 100)
	for _, size := range []int64{0, 1, 999, 1000, 1001, 5000} {
		for name, r := range map[string]func() io.Reader{
			"whole":      func() io.Reader { return strings.NewReader(data) },
			"byte-wise":  func() io.Reader { return iotest.OneByteReader(strings.NewReader(data)) },
			"eof-inline": func() io.Reader { return iotest.DataErrReader(strings.NewReader(data)) },
		} {
			got, err := readSized(r(), size)
			if err != nil || string(got) != data {
				t.Errorf("%s, size %d: %d bytes, %v; want all %d", name, size, len(got), err, len(data))
			}
		}
	}
	if _, err := readSized(iotest.TimeoutReader(strings.NewReader(data)), 10); err == nil {
		t.Error("a read error is not returned")
	}
}
