package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExampleSpecsLoad keeps the repository's example specs (specs/, used by the
// sandbox) valid as the format evolves. The live catalogue is not known here, so course
// existence is checked by the end-to-end tests.
func TestExampleSpecsLoad(t *testing.T) {
	dir := filepath.Join("..", "..", "specs")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no example specs")
	}
	set := LoadDir(dir, Options{Location: paris})
	courses, ds := Resolve(set, nil)
	if len(ds) != 0 {
		t.Errorf("example specs have diagnostics:\n%v", ds)
	}
	if len(set.Courses) == 0 || len(courses) < len(set.Courses) {
		t.Errorf("%d course specs gave %d courses", len(set.Courses), len(courses))
	}
}
