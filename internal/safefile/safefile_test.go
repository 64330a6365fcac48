package safefile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
